"""`zhili demo`: migrate, seed the demo city if the database is empty, serve.

One process: the web server (uvicorn, ASGI) and an in-process worker (a
thread per lane and one for schedules and pollers). For a city, run `zhili worker` processes beside
N web servers on PostgreSQL instead.
"""

import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Start the demo: migrate, seed the demo city and users if empty, and serve."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
        parser.add_argument("--seed", type=int, default=1, help="demo city seed (default 1)")
        parser.add_argument("--no-serve", action="store_true", help="prepare the database and exit")
        parser.add_argument("--no-worker", action="store_true", help="do not run the in-process worker")
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES],
                            default=settings.LANGUAGE_CODE,
                            help=f"language of this output (default {settings.LANGUAGE_CODE})")

    def handle(self, *, language, **options):
        # One language for the whole output: labels and the sentences around them.
        with translation.override(language):
            self.run(**options)

    def run(self, *, port, host, seed, no_serve, no_worker, **options):
        if not 1 <= port <= 65535:
            raise CommandError(f"--port must be between 1 and 65535, not {port}")
        from django.core.exceptions import ImproperlyConfigured

        from zhili.core.checks import refuse_unsafe_settings

        try:
            refuse_unsafe_settings()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        started = time.monotonic()
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        self.stdout.write(_("Zhili demo · data in %(dir)s") % {"dir": settings.DATA_DIR})
        self.stdout.write(_("[1/3] Preparing the database …"))
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(_("[2/3] Seeding the demo city (only what is missing) …"))
        from zhili.core.seeding import seed_demo

        seed_demo(seed=seed, log=lambda line: self.stdout.write("      " + line))
        self.stdout.write("      " + _("ready in %(seconds).1f s") % {"seconds": time.monotonic() - started})
        self.print_logins()
        if no_serve:
            return
        if not no_worker:
            from zhili.core import tasks_worker

            # Every lane on its own thread: no lane waits for another's long job.
            tasks_worker.start(stop=threading.Event())
        self.stdout.write(_("[3/3] Serving on %(url)s  (Ctrl-C to stop)") % {"url": f"http://{host}:{port}/"})
        import uvicorn

        from zhili.core.forwarding import server_options

        uvicorn.run("zhili.asgi:application", host=host, port=port, log_level="warning",
                    lifespan="off", **server_options())

    def print_logins(self):
        from zhili.core.seeding import DEMO_PASSWORD, demo_logins

        self.stdout.write("")
        self.stdout.write(_("Demo logins (password for all: %(password)s)") % {"password": DEMO_PASSWORD})
        rows = demo_logins()
        width = max((len(username) for username, *_ in rows), default=0) + 2
        for username, where, role in rows:
            # Area and role last: CJK text is double width and breaks column padding.
            self.stdout.write(f"  {username:<{width}}{where} · {role}")
        self.stdout.write("")
