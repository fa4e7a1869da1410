import signal
import threading

from django.core.management.base import BaseCommand

from zhili.core import tasks_worker


class Command(BaseCommand):
    help = "Run queued background tasks and periodic sweeps (notifications, escalations, clean-ups)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true",
                            help="enqueue due sweeps, run every ready task, then exit")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="seconds to wait when the queue is empty (default 1)")
        parser.add_argument("--queues", default="default,sweeps",
                            help="comma-separated queue names (default: default,sweeps)")

    def handle(self, *, once, interval, queues, **options):
        from zhili.core import periodic

        queue_names = tuple(q.strip() for q in queues.split(",") if q.strip())
        if once:
            periodic.load_all()
            enqueued = periodic.enqueue_due()
            tasks_worker.drain(queues=queue_names)
            self.stdout.write(f"ran ready tasks; sweeps enqueued: {', '.join(enqueued) or 'none'}")
            return
        stop = threading.Event()
        # Finish the running task on SIGTERM/SIGINT, then stop: nothing half-done.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(f"zhili worker: queues {', '.join(queue_names)}; Ctrl-C to stop")
        tasks_worker.run_forever(interval=interval, stop=stop, queues=queue_names)
        self.stdout.write("zhili worker: stopped")
