"""`notify()`: the one way any app tells a few users something.

Call it inside the transaction of the change that causes it. It writes the
message (once per dedupe key) and one delivery row per (recipient, channel),
and that is all: the worker polls the deliveries on every loop
(`notifications.tasks`). A rolled-back change notifies nobody; a committed
one is delivered by whichever worker runs next, even if this process dies.
The caller's `dedupe` key makes a retried write or a re-run sweep notify
nobody twice. Thousands of recipients or more: `message_broadcast()`.
Someone who is neither a user nor a registry person (a rescue team's contact
phone): `notify_addresses()`.

Text in each reader's language: pass `text`, a callable giving (title, body),
instead of `title` and `body`. The recipients are grouped by their language
(`User.language`, blank: the platform's `LANGUAGE_CODE`), `text(language)` is
called once per group inside `translation.override(language)`, and each group
gets its own message: the platform language's under the caller's dedupe key,
every other under that key plus `@<language>`, so a rerun finds each again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation

from zhili.core import atcommit
from zhili.notifications.channels import channel_for
from zhili.notifications.models import Delivery, Message

logger = logging.getLogger("zhili.notifications")

DEDUPE_MAX = 200


MESSAGE_COLUMNS = ("kind, title, body, link, object_type, object_id, dedupe_key, created_at,"
                   " fanout_state, fanout_cursor, fanout_count")
DELIVERY_COLUMNS = ("message_id, user_id, channel, address, status, attempts, next_attempt_at,"
                    " acknowledged_via, provider_ref, last_error")


def _message_insert(*, kind, title, body, link, obj, dedupe, now, fanout_state) -> tuple[str, list]:
    """INSERT … ON CONFLICT DO UPDATE … RETURNING id: a retried write gets the first id back."""
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    sql = (f"INSERT INTO {Message._meta.db_table} ({MESSAGE_COLUMNS})"
           " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 0)"
           " ON CONFLICT (dedupe_key) DO UPDATE SET dedupe_key = excluded.dedupe_key RETURNING id")
    return sql, [kind[:48], str(title)[:200], str(body), link[:300], object_type[:64],
                 object_id[:64], dedupe[:DEDUPE_MAX], now or timezone.now(), fanout_state]


def message_upsert(*, kind: str, title: str, body: str = "", link: str = "", obj=None,
                   dedupe: str, now=None, fanout_state: str = "") -> int:
    """The id of the message with this dedupe key, written now if it is new (one statement)."""
    sql, params = _message_insert(kind=kind, title=title, body=body, link=link, obj=obj,
                                  dedupe=dedupe, now=now, fanout_state=fanout_state)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _write(message: dict, pairs: list[tuple[int, str]], due) -> None:
    """The message and its deliveries: one statement on PostgreSQL (a data-modifying
    CTE, with the COMMIT inside a transaction), two on SQLite, which has none."""
    if connection.vendor != "postgresql":
        message_id = message_upsert(**message)
        Delivery.objects.bulk_create(
            [Delivery(message_id=message_id, user_id=rid, channel=channel, next_attempt_at=due)
             for rid, channel in pairs], ignore_conflicts=True)
        return
    write = _deferred(message, pairs, due)
    if not atcommit.defer(connection, write):
        write.now(connection)


# The message and its deliveries (as two arrays): one statement, prepared once per
# connection and sent with the COMMIT (core/atcommit.py): the caller never reads
# it back, and intake then pays no round trip for it.
PIPELINED_SQL = (
    f"WITH m AS (INSERT INTO {Message._meta.db_table} ({MESSAGE_COLUMNS})"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::timestamptz, %s, 0, 0)"
    " ON CONFLICT (dedupe_key) DO UPDATE SET dedupe_key = excluded.dedupe_key RETURNING id)"
    f" INSERT INTO {Delivery._meta.db_table} ({DELIVERY_COLUMNS})"
    " SELECT m.id, v.user_id, v.channel, '', 'pending', 0, %s::timestamptz, '', '', ''"
    " FROM m, unnest(%s::bigint[], %s::text[]) AS v(user_id, channel) ON CONFLICT DO NOTHING"
)


def _deferred(message: dict, pairs: list[tuple[int, str]], due) -> atcommit.Write:
    _sql, params = _message_insert(**message, fanout_state="")
    users = "{" + ",".join(str(int(rid)) for rid, _ in pairs) + "}"
    channels = "{" + ",".join(c for _, c in pairs) + "}"  # channel names are identifiers

    values = [*params, due, users, channels]

    def now(conn):  # outside a transaction, or under a test case's: written at once
        with conn.cursor() as cursor:
            cursor.execute(PIPELINED_SQL, values)

    return atcommit.Write(sql=PIPELINED_SQL, name=b"zhili_notify", now=now, params=values)


def language_dedupe(dedupe: str, language: str) -> str:
    """The dedupe key of the `language` copy of the caller's message `dedupe`."""
    if language == settings.LANGUAGE_CODE:
        return dedupe[:DEDUPE_MAX]
    suffix = f"@{language}"
    return dedupe[:DEDUPE_MAX - len(suffix)] + suffix


def _by_language(recipients: list, ids: list[int]) -> dict[str, list[int]]:
    """{language: user ids}, in the recipients' order: one query for the users not given as
    loaded rows, none when all are."""
    from zhili.accounts.models import User, language_or_default

    known = {r.pk: r.__dict__["language"] for r in recipients
             if isinstance(r, User) and "language" in r.__dict__}
    missing = [rid for rid in ids if rid not in known]
    if missing:
        known.update(User.objects.filter(pk__in=missing).values_list("pk", "language"))
    groups: dict[str, list[int]] = {}
    for rid in ids:
        groups.setdefault(language_or_default(known.get(rid)), []).append(rid)
    return groups


def notify(*, recipients, kind: str, title: str = "", body: str = "",
           text: Callable[[str], tuple[str, str]] | None = None, link: str = "", obj=None,
           dedupe: str, channels=("inapp",), now=None) -> int:
    """Queue a notification for each recipient on each channel; return deliveries offered.

    `recipients` are users or user ids (None and duplicates are ignored).
    Deliveries that exist already are skipped silently (INSERT … ON CONFLICT
    DO NOTHING), so the count includes them. `text(language) -> (title, body)`
    instead of `title`/`body` writes each recipient's copy in their language
    (see the module's docstring).
    """
    recipients = list(recipients or ())
    ids = []
    for r in recipients:
        rid = getattr(r, "pk", r)
        if rid is not None and rid not in ids:
            ids.append(rid)
    usable = [c for c in channels if channel_for(c) is not None]
    for missing in set(channels) - set(usable):
        logger.warning("notification channel %r is not configured; %s not sent on it",
                       missing, kind)
    if not ids or not usable:
        return 0
    # `now` dates the message (a controlled clock in the demo and tests); delivery is
    # due at once in real time, whatever that clock says.
    due = timezone.now()
    if text is None:
        groups = [(title, body, dedupe, ids)]
    else:
        groups = []
        for language, members in _by_language(recipients, ids).items():
            with translation.override(language):
                title, body = text(language)
                groups.append((str(title), str(body), language_dedupe(dedupe, language), members))
    for title, body, key, members in groups:
        _write(dict(kind=kind, title=title, body=body, link=link, obj=obj, dedupe=key,
                    now=now or due), [(rid, channel) for rid in members for channel in usable],
               due)
    return len(ids) * len(usable)


def notify_addresses(*, addresses, kind: str, title: str, body: str = "", link: str = "",
                     obj=None, dedupe: str, channel: str = "sms", now=None) -> int:
    """Queue the message to bare addresses (phone numbers) on one channel; return
    deliveries offered.

    For a recipient with no account and no registry entry. Like `notify()`: in
    the caller's transaction, once per dedupe key and address (a repeat adds
    nothing and still counts). A `link` with `{ack}` gives each delivery its own
    acknowledgement link (acklinks.py), the only way such a recipient can say
    "received". The address is personal data: logs and the admin show it masked.
    """
    wanted = []
    for a in addresses or ():
        a = str(a or "").strip()[:64]
        if a and a not in wanted:
            wanted.append(a)
    if not wanted:
        return 0
    if channel_for(channel) is None:
        logger.warning("notification channel %r is not configured; %s not sent on it",
                       channel, kind)
        return 0
    due = timezone.now()
    message_id = message_upsert(kind=kind, title=title, body=body, link=link, obj=obj,
                                dedupe=dedupe, now=now or due)
    Delivery.objects.bulk_create(
        [Delivery(message_id=message_id, address=a, channel=channel, next_attempt_at=due)
         for a in wanted], ignore_conflicts=True)
    return len(wanted)
