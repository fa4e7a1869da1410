"""Periodic sweeps (SLA checks, escalations, clean-ups) on the durable task queue.

An app declares `@periodic(every=timedelta(minutes=1))` on a task. The worker
calls `enqueue_due()` each loop: for every sweep whose `next_due` has passed it
moves `next_due` forward with a conditional UPDATE and enqueues the task in the
same transaction. Two workers cannot both win the UPDATE, and a crash between
the two writes rolls both back: each run is enqueued once, none is lost.
Sweeps themselves must be idempotent (a task may run again after a crash).
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


def periodic(*, every: timedelta):
    """Register a task to run every `every` (decorate the @task object)."""

    def register(task_obj):
        name = f"{task_obj.module_path}"
        REGISTRY[name] = Periodic(name=name, every=every, task=task_obj)
        return task_obj

    return register


def load_all() -> None:
    """Import every app's tasks module so its sweeps register."""
    import importlib
    import importlib.util

    from django.apps import apps

    for config in apps.get_app_configs():
        module = f"{config.name}.tasks"
        if config.name.startswith("zhili.") and importlib.util.find_spec(module):
            importlib.import_module(module)


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
