"""Notifications work for the worker.

The delivery table is the queue: `notify()` writes rows in the caller's
transaction and nothing else, and each worker loop (about once a second)
claims what is due, first attempts and retries after back-off alike. A
fan-out runs as a task queued with the broadcast; the same poller resumes a
fan-out whose worker died (its lease ran out), which the task queue would not.
"""

from zhili.core.periodic import poller
from zhili.core.queue import task


@poller(lane="notifications")
def notifications_poll() -> int:
    from zhili.notifications.delivery import notifications_deliver_pending
    from zhili.notifications.fanout import message_fanout_resume

    return message_fanout_resume() + notifications_deliver_pending()


@task()
def message_fanout(message_id: int) -> int:
    from zhili.notifications.fanout import message_fanout_run

    return message_fanout_run(message_id=message_id)
