"""Periodic jobs and outbox pollers on the durable task queue, by lane.

A lane is a django-tasks queue name (settings.TASKS QUEUES): `notifications`,
`default`, `sweeps`, `long` (model runs, reports). `zhili worker --lanes …`
serves chosen lanes, so a long job never holds up a warning's delivery.

An app declares a periodic job on a task, by interval or by the city's calendar
(settings.TIME_ZONE):

    @periodic(every=timedelta(minutes=1))            # every minute
    @periodic(at="08:00")                            # every day at 08:00
    @periodic(at="08:00", weekday="monday")          # every Monday at 08:00
    @periodic(at="08:00", day=1)                     # the first of every month

Its lane is the task's queue. The worker calls `enqueue_due()` for its lanes:
for every job whose `next_due` has passed it moves `next_due` to the next run
after now with a conditional UPDATE and enqueues the task in the same
transaction. Two workers cannot both win the UPDATE, and a crash between the
two writes rolls both back: each run is enqueued once, none is lost. Runs
missed while no worker was up collapse into one (the next run is counted from
now, not from the missed one). Jobs must be idempotent (a task may run again
after a crash).

Pollers are lighter: `@poller` (or `@poller(lane="notifications")`) on a plain
function that the worker calls about once a second on its own thread, beside
the tasks, with no task row. They suit an outbox table that is itself the
queue (notifications): the write that fills it costs nothing more, and the
poller must claim rows so that two workers do not take the same one
(SELECT … FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from zhili.core import context
from zhili.core.schedules import (
    Calendar,
    Every,
    Schedule,
    first_due,
    next_run,
    parse_time,
    parse_weekday,
)

logger = logging.getLogger("zhili.worker")

DEFAULT_LANE = "default"


def lanes() -> tuple[str, ...]:
    """Every lane the task backend knows, in settings order."""
    from django.conf import settings

    return tuple(settings.TASKS["default"]["QUEUES"])


@dataclass(frozen=True)
class Periodic:
    name: str
    schedule: Schedule
    task: object  # a django-tasks Task

    @property
    def lane(self) -> str:
        return self.task.queue_name


@dataclass(frozen=True)
class Poller:
    name: str
    fn: object
    lane: str

    def __call__(self):
        return self.fn()


REGISTRY: dict[str, Periodic] = {}
POLLERS: dict[str, Poller] = {}


def periodic(*, every: timedelta | None = None, at: str | time | None = None,
             weekday: int | str | None = None, day: int | None = None):
    """Register a task to run by interval (`every`) or calendar (`at`, with an
    optional `weekday` or day of the month `day`); decorate the @task object."""
    if (every is None) == (at is None):
        raise ValueError("@periodic needs exactly one of every= or at=")
    if every is not None:
        if weekday is not None or day is not None:
            raise ValueError("weekday= and day= go with at=, not every=")
        schedule = Every(every)
    else:
        schedule = Calendar(at=parse_time(at), day=day,
                            weekday=None if weekday is None else parse_weekday(weekday))

    def register(task_obj):
        name = task_obj.module_path
        REGISTRY[name] = Periodic(name=name, schedule=schedule, task=task_obj)
        return task_obj

    return register


def poller(fn=None, *, lane: str = DEFAULT_LANE):
    """Register `fn()` to be called about once a second by workers serving `lane`."""
    if lane not in lanes():
        # No worker would ever call it: refuse at import, not silently.
        raise ValueError(f"poller lane {lane!r} is not one of {', '.join(lanes())}")

    def register(fn):
        name = f"{fn.__module__}.{fn.__qualname__}"
        POLLERS[name] = Poller(name=name, fn=fn, lane=lane)
        return fn

    return register(fn) if fn is not None else register


def _served(lane: str, served) -> bool:
    return served is None or lane in served


def run_pollers(lanes=None) -> int:
    """Call the pollers of `lanes` (all when None); return the work they report done.

    Each call binds its own request context, so audit rows it writes carry
    that call's id; one failing poller does not stop the others.
    """
    done = 0
    for item in list(POLLERS.values()):
        if not _served(item.lane, lanes):
            continue
        ctx = context.RequestContext(request_id=context.new_request_id(), channel="worker")
        try:
            with context.bind(ctx):
                done += int(item() or 0)
        except Exception:
            logger.exception("poller %s failed (request %s)", item.name, ctx.request_id)
    return done


_loaded = False


def load_all() -> None:
    """Import every app's tasks module so its jobs and pollers register (once per
    process: `drain()` calls this on every worker loop)."""
    global _loaded
    if _loaded:
        return
    import importlib
    import importlib.util

    from django.apps import apps

    for config in apps.get_app_configs():
        module = f"{config.name}.tasks"
        if config.name.startswith("zhili.") and importlib.util.find_spec(module):
            importlib.import_module(module)
    _loaded = True


def enqueue_due(now: datetime | None = None, lanes=None) -> list[str]:
    """Enqueue every job of `lanes` (all when None) due at `now` (a controlled clock
    in tests); return their names."""
    from zhili.core.models import PeriodicSchedule

    now = now or timezone.now()
    items = [item for item in REGISTRY.values() if _served(item.lane, lanes)]
    stored = {name: (due, spec) for name, due, spec in PeriodicSchedule.objects.filter(
        name__in=[item.name for item in items]).values_list("name", "next_due", "spec")}
    enqueued = []
    for item in items:
        spec = item.schedule.spec
        due, stored_spec = stored.get(item.name, (None, None))
        if stored_spec != spec:
            # A new job, or its schedule changed in the code.
            due = _reschedule(item, now, stored_due=due, old_spec=stored_spec)
        if due is None or due > now:
            continue
        with transaction.atomic():
            claimed = PeriodicSchedule.objects.filter(
                name=item.name, spec=spec, next_due__lte=now,
            ).update(next_due=next_run(item.schedule, now), last_enqueued_at=now)
            if claimed:
                item.task.enqueue()
                enqueued.append(item.name)
    return enqueued


def _reschedule(item: Periodic, now: datetime, *, stored_due, old_spec) -> datetime | None:
    from zhili.core.models import PeriodicSchedule

    spec = item.schedule.spec
    if stored_due is None:
        # ignore_conflicts: two workers meeting a new job create one row.
        PeriodicSchedule.objects.bulk_create(
            [PeriodicSchedule(name=item.name, next_due=first_due(item.schedule, now), spec=spec)],
            ignore_conflicts=True)
    else:
        # The sooner of the old plan and the new schedule's next run: a changed
        # job neither runs at once nor waits longer than it was going to, and
        # two code versions side by side during a deploy cannot make it run on
        # every loop. Conditional on the old spec: of two workers, one rewrites.
        PeriodicSchedule.objects.filter(name=item.name, spec=old_spec).update(
            next_due=min(stored_due, next_run(item.schedule, now)), spec=spec)
    row = PeriodicSchedule.objects.filter(name=item.name, spec=spec).first()
    return row.next_due if row else None


def describe() -> list[tuple[str, str, str]]:
    """(name, lane, schedule) of every job: what `zhili worker` prints on start."""
    return [(item.name, item.lane, item.schedule.spec) for item in REGISTRY.values()]


__all__ = ["Calendar", "Every", "periodic", "poller", "run_pollers", "enqueue_due", "load_all",
           "lanes", "REGISTRY", "POLLERS"]
