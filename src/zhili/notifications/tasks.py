"""Delivery of the notifications outbox: the worker polls it on every loop.

The outbox table is the queue: `notify()` writes rows in the caller's
transaction and nothing else, and each worker loop (about once a second)
claims what is due, first attempts and retries after back-off alike.
"""

from zhili.core.periodic import poller


@poller(lane="notifications")
def notifications_poll() -> int:
    from zhili.notifications.services import notifications_deliver_pending

    return notifications_deliver_pending()
