"""The one place the task API is imported from.

django-tasks is the backport of Django 6's `django.tasks`; moving to Django 6
changes this import and nothing else.
"""

from django_tasks import TaskResultStatus, default_task_backend, task, task_backends

__all__ = ["task", "default_task_backend", "task_backends", "TaskResultStatus", "enqueue_on_commit"]


def enqueue_on_commit(task_obj, *args, **kwargs):
    """Enqueue once the surrounding transaction commits; never for a rolled-back write."""
    from django.db import transaction

    transaction.on_commit(lambda: task_obj.enqueue(*args, **kwargs))
