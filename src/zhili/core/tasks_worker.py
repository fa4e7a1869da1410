"""The worker shared by `zhili worker` and the demo's in-process worker.

A worker serves lanes (task queue names). It runs one thread per lane, so a
two-minute model run on `long` never delays a warning on `notifications`; a
thread per lane with pollers, calling them about once a second, so outboxes
never wait for a queue to drain; and a clock thread that enqueues due periodic
jobs. Every task run and
every poller call binds its own request context: the audit rows it writes
carry its id (a task's result id) and channel ("task", "worker").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from django.db import close_old_connections
from django.utils.crypto import get_random_string

from zhili.core import context, periodic

logger = logging.getLogger("zhili.worker")


def resolve_lanes(lanes: Iterable[str] | None) -> tuple[str, ...]:
    """The lanes asked for, checked against settings (all of them when None)."""
    known = periodic.lanes()
    if lanes is None:
        return known
    chosen = tuple(dict.fromkeys(lane.strip() for lane in lanes if lane.strip()))
    unknown = [lane for lane in chosen if lane not in known]
    if unknown or not chosen:
        raise ValueError(f"unknown lane(s) {', '.join(unknown) or '(none given)'}; "
                         f"lanes are: {', '.join(known)}")
    return chosen


def _worker(worker_id: str, lanes):
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(
        queue_names=list(lanes), interval=0, batch=True, backend_name="default",
        startup_delay=False, max_tasks=None, excluded_queue_names=[], worker_id=worker_id,
    )


def run_ready(*, lanes=None, max_tasks: int | None = None, worker_id: str | None = None) -> int:
    """Run ready tasks of `lanes` (all when None) until none is left; return how many ran.

    django-tasks-db's own loop, minus its `close_old_connections()` calls, so it
    also runs inside a test's transaction. Claiming is its `get_locked()`:
    SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, an exclusive transaction on SQLite.
    """
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction

    lanes = resolve_lanes(lanes)
    worker = _worker(worker_id or get_random_string(32), lanes)
    periodic.load_all()
    ran = 0
    while max_tasks is None or ran < max_tasks:
        ready = DBTaskResult.objects.ready().filter(backend_name="default", queue_name__in=lanes)
        with exclusive_transaction(ready.db):
            claimed = ready.get_locked()
            if claimed is not None:
                claimed.claim(worker.worker_id)
        if claimed is None:
            break
        # The task's own context: its audit rows carry its result id.
        with context.bind(context.RequestContext(request_id=str(claimed.id), channel="task")):
            worker.run_task(claimed)
        ran += 1
    return ran


def drain(*, lanes=None, max_tasks: int | None = None, worker_id: str | None = None) -> int:
    """Run every ready task of `lanes`, then their pollers; return how many tasks ran.

    One pass in the calling thread: `zhili worker --once` and tests.
    """
    ran = run_ready(lanes=lanes, max_tasks=max_tasks, worker_id=worker_id)
    periodic.run_pollers(resolve_lanes(lanes))  # what the tasks just queued in outboxes goes out now
    return ran


def _loop(step, *, stop: threading.Event, interval: float, what: str) -> None:
    while not stop.is_set():
        try:
            close_old_connections()
            step()
        except Exception:  # a bad task or a locked database must not kill the thread
            logger.exception("%s failed; retrying after %.1fs", what, interval)
        finally:
            close_old_connections()
        stop.wait(interval)


def _schedule(lanes) -> None:
    with context.bind(context.RequestContext(request_id=context.new_request_id(),
                                             channel="worker")):
        periodic.enqueue_due(lanes=lanes)


def start(*, lanes=None, interval: float = 1.0, stop: threading.Event) -> list[threading.Thread]:
    """Start the worker's threads (daemons) until `stop`: one per lane for its tasks,
    one per lane that has pollers (a slow fan-out delays nothing else), and the
    clock that enqueues due periodic jobs."""
    lanes = resolve_lanes(lanes)
    periodic.load_all()
    worker_id = get_random_string(32)
    loops = {"clock": lambda: _schedule(lanes)}
    for lane in lanes:
        loops[lane] = lambda lane=lane: run_ready(lanes=(lane,), worker_id=worker_id)
    for lane in dict.fromkeys(item.lane for item in periodic.POLLERS.values()):
        if lane in lanes:
            loops[f"poll-{lane}"] = lambda lane=lane: periodic.run_pollers((lane,))
    threads = [threading.Thread(target=_loop, name=f"zhili-worker-{name}", daemon=True,
                                args=(step,), kwargs={"stop": stop, "interval": interval,
                                                      "what": name})
               for name, step in loops.items()]
    for thread in threads:
        thread.start()
    jobs = [f"{name} [{lane}, {spec}]" for name, lane, spec in periodic.describe()
            if lane in lanes]
    logger.info("worker %s started; lanes: %s; periodic jobs: %s", worker_id,
                ", ".join(lanes), "; ".join(jobs) or "none")
    return threads


def run_forever(*, lanes=None, interval: float = 1.0, stop: threading.Event | None = None) -> None:
    """Serve `lanes` until `stop` is set; a running task is finished, not abandoned."""
    stop = stop or threading.Event()
    threads = start(lanes=lanes, interval=interval, stop=stop)
    while not stop.wait(0.5):
        pass
    for thread in threads:
        thread.join()
