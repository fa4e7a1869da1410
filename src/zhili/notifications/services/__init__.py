"""Writes of the notifications app; see each module.

- `notify()` (messages.py): a message to a few users, in the caller's transaction;
  `notify_addresses()`: to bare addresses (a team's contact phone), likewise.
- `message_broadcast()` (fanout.py) / `message_fanout_run()` (../fanout.py): one message to a
  recipient query of any size, set-based, chunked, resumable.
- `notifications_deliver_pending()` (../delivery.py): the worker's delivery loop.
- `notification_mark_read()`, `delivery_acknowledge()` (inbox.py).
"""

from zhili.notifications.delivery import (  # noqa: F401
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    LEASE,
    MAX_ATTEMPTS,
    backoff,
    lease,
    notifications_deliver_pending,
)
from zhili.notifications.fanout import (  # noqa: F401
    FANOUT_CHUNK,
    message_fanout_resume,
    message_fanout_run,
)
from zhili.notifications.services.fanout import message_broadcast  # noqa: F401
from zhili.notifications.services.inbox import (  # noqa: F401
    delivery_acknowledge,
    notification_mark_read,
)
from zhili.notifications.services.messages import (  # noqa: F401
    message_upsert,
    notify,
    notify_addresses,
)
