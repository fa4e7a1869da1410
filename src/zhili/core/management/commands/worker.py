import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from zhili.core import tasks_worker


class Command(BaseCommand):
    help = ("Run queued background tasks, periodic jobs and outbox pollers of the chosen lanes "
            "(notifications, default, sweeps, long).")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="enqueue due periodic jobs, run every ready task and the "
                                 "pollers once, then exit")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="seconds between polls of an idle lane (default 1)")
        parser.add_argument("--lanes", "--queues", dest="lanes", default="",
                            help="comma-separated lanes to serve (default: all; --queues is "
                                 "the old name)")

    def handle(self, *, once, interval, lanes, **options):
        from zhili.core import periodic

        if not 0 < interval <= 3600:  # also refuses nan and inf
            raise CommandError(f"--interval must be between 0 and 3600 seconds, not {interval}")
        try:
            chosen = tasks_worker.resolve_lanes(lanes.split(",") if lanes else None)
        except ValueError as exc:
            raise CommandError(f"--lanes: {exc}") from None
        if once:
            periodic.load_all()
            enqueued = periodic.enqueue_due(lanes=chosen)
            tasks_worker.drain(lanes=chosen)
            self.stdout.write(f"ran ready tasks; periodic jobs enqueued: {', '.join(enqueued) or 'none'}")
            return
        stop = threading.Event()
        # Finish the running tasks on SIGTERM/SIGINT, then stop: nothing half-done.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"zhili worker: lanes {', '.join(chosen)}; Ctrl-C to stop")
        self.stdout.flush()
        tasks_worker.run_forever(lanes=chosen, interval=interval, stop=stop)
        self.stdout.write("zhili worker: stopped")
