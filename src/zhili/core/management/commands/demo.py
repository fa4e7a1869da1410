"""`zhili demo`: migrate, seed the demo city if the database is empty, serve.

One process: the web server (uvicorn, ASGI) and an in-process worker thread
for queued tasks and sweeps. For a city, run `zhili worker` processes beside
N web servers on PostgreSQL instead.
"""

import threading
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Start the demo: migrate, seed the demo city and users if empty, and serve."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
        parser.add_argument("--seed", type=int, default=1, help="demo city seed (default 1)")
        parser.add_argument("--no-serve", action="store_true", help="prepare the database and exit")
        parser.add_argument("--no-worker", action="store_true", help="do not run the in-process worker")

    def handle(self, *, port, host, seed, no_serve, no_worker, **options):
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
        self.stdout.write(f"Zhili demo · data in {settings.DATA_DIR}")
        self.stdout.write("[1/3] Preparing the database …")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("[2/3] Seeding the demo city (only what is missing) …")
        from zhili.core.seeding import seed_demo

        seed_demo(seed=seed, log=lambda line: self.stdout.write("      " + line))
        self.stdout.write(f"      ready in {time.monotonic() - started:.1f}s")
        self.print_logins()
        if no_serve:
            return
        if not no_worker:
            from zhili.core import tasks_worker

            threading.Thread(target=tasks_worker.run_forever, name="zhili-worker", daemon=True).start()
        self.stdout.write(f"[3/3] Serving on http://{host}:{port}/  (Ctrl-C to stop)")
        import uvicorn

        from zhili.core.forwarding import server_options

        uvicorn.run("zhili.asgi:application", host=host, port=port, log_level="warning",
                    lifespan="off", **server_options())

    def print_logins(self):
        from zhili.accounts.demo import DEMO_USERS, node_by_segment
        from zhili.core.seeding import DEMO_PASSWORD

        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for username, _display, role, area, dept in DEMO_USERS:
            where = node_by_segment(area).name + (f" · {dept}" if dept else "")
            # Area and role last: CJK text is double width and breaks column padding.
            self.stdout.write(f"  {username:<14} {where} · {role.label}")
        self.stdout.write("")
