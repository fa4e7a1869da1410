"""Periodic sweeps (SLA checks, escalations, clean-ups) on the durable task queue.

An app declares `@periodic(every=timedelta(minutes=1))` on a task. The worker
calls `enqueue_due()` each loop: for every sweep whose `next_due` has passed it
moves `next_due` forward with a conditional UPDATE and enqueues the task in the
same transaction. Two workers cannot both win the UPDATE, and a crash between
the two writes rolls both back: each run is enqueued once, none is lost.
Sweeps themselves must be idempotent (a task may run again after a crash).

Pollers are lighter: `@poller` on a plain function that the worker calls on
every loop (about once a second), with no task row. They suit an outbox
table that is itself the queue (notifications): the write that fills it then
costs nothing more, and the poller must claim rows so that two workers do
not take the same one (SELECT … FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    task: object  # a django-tasks Task


REGISTRY: dict[str, Periodic] = {}
POLLERS: dict[str, object] = {}


def periodic(*, every: timedelta):
    """Register a task to run every `every` (decorate the @task object)."""

    def register(task_obj):
        name = f"{task_obj.module_path}"
        REGISTRY[name] = Periodic(name=name, every=every, task=task_obj)
        return task_obj

    return register


def poller(fn):
    """Register `fn()` to be called on every worker loop (see the module's docstring)."""
    POLLERS[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


def run_pollers() -> int:
    """Call every poller; return the work they report done (a sum of their results)."""
    return sum(int(fn() or 0) for fn in POLLERS.values())


_loaded = False


def load_all() -> None:
    """Import every app's tasks module so its sweeps and pollers register (once per
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


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Enqueue every sweep that is due at `now` (a controlled clock in tests)."""
    from zhili.core.models import PeriodicSchedule

    now = now or timezone.now()
    enqueued = []
    for item in REGISTRY.values():
        PeriodicSchedule.objects.get_or_create(name=item.name, defaults={"next_due": now})
        with transaction.atomic():
            claimed = PeriodicSchedule.objects.filter(name=item.name, next_due__lte=now).update(
                next_due=now + item.every, last_enqueued_at=now
            )
            if claimed:
                item.task.enqueue()
                enqueued.append(item.name)
    return enqueued
