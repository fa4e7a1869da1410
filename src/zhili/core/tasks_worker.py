"""The worker loop shared by `zhili worker` and the demo's in-process worker."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections
from django.utils.crypto import get_random_string

from zhili.core import periodic

logger = logging.getLogger("zhili.worker")


def drain(*, queues=("default", "sweeps"), max_tasks: int | None = None, worker_id: str | None = None) -> int:
    """Run every ready task on the queues, then the pollers; return how many tasks ran.

    django-tasks-db's own loop, minus its `close_old_connections()` calls, so it
    also runs inside a test's transaction. Claiming is its `get_locked()`:
    SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, an exclusive transaction on SQLite.
    """
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction

    worker = Worker(
        queue_names=list(queues), interval=0, batch=True, backend_name="default",
        startup_delay=False, max_tasks=max_tasks, excluded_queue_names=[],
        worker_id=worker_id or get_random_string(32),
    )
    periodic.load_all()
    ran = 0
    while max_tasks is None or ran < max_tasks:
        ready = DBTaskResult.objects.ready().filter(backend_name="default", queue_name__in=queues)
        with exclusive_transaction(ready.db):
            claimed = ready.get_locked()
            if claimed is not None:
                claimed.claim(worker.worker_id)
        if claimed is None:
            break
        worker.run_task(claimed)
        ran += 1
    periodic.run_pollers()  # what the tasks just queued in outboxes goes out now
    return ran


def run_forever(*, interval: float = 1.0, stop: threading.Event | None = None,
                queues=("default", "sweeps")) -> None:
    """Enqueue due sweeps, drain the queues, run the pollers, sleep; until `stop` is set."""
    stop = stop or threading.Event()
    periodic.load_all()
    worker_id = get_random_string(32)
    logger.info("worker %s started; sweeps: %s", worker_id, ", ".join(periodic.REGISTRY) or "none")
    while not stop.is_set():
        try:
            close_old_connections()
            periodic.enqueue_due()
            drain(queues=queues, worker_id=worker_id)
        except Exception:  # a bad task or a locked database must not kill the loop
            logger.exception("worker loop failed; retrying after %.1fs", interval)
        finally:
            close_old_connections()
        stop.wait(interval)
