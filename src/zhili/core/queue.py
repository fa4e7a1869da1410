"""The one place the task API is imported from.

django-tasks is the backport of Django 6's `django.tasks`; moving to Django 6
changes this import and nothing else.
"""

from django_tasks import TaskResultStatus, default_task_backend, task, task_backends

__all__ = ["task", "default_task_backend", "task_backends", "TaskResultStatus",
           "enqueue_on_commit", "enqueue_with_commit"]


def enqueue_on_commit(task_obj, *args, **kwargs):
    """Enqueue once the surrounding transaction commits; never for a rolled-back write."""
    from django.db import transaction

    transaction.on_commit(lambda: task_obj.enqueue(*args, **kwargs))


def enqueue_with_commit(task_obj, *args, **kwargs):
    """Enqueue as part of the surrounding transaction when the queue lives in the database.

    The task row then commits or rolls back with the change that caused it (a
    transactional outbox: no window in which the change is committed and its
    task not yet queued), and the write costs one commit, not two. Any other
    backend gets the task after the commit, as `enqueue_on_commit` does.
    """
    from django.db import transaction
    from django_tasks_db import DatabaseBackend

    if transaction.get_connection().in_atomic_block and \
            isinstance(task_obj.get_backend(), DatabaseBackend):
        task_obj.enqueue(*args, **kwargs)
    else:
        enqueue_on_commit(task_obj, *args, **kwargs)
