"""Live updates: the event log, its publisher, and the per-process hub the streams share.

`publish(kind, id, area_path)` appends a `LiveEvent` in the caller's transaction
and, on PostgreSQL, a `NOTIFY zhili_live` carrying the event's id, kind, object
id and path (never a body: NOTIFY payloads stop at 8,000 bytes). PostgreSQL
delivers the notification at commit, so a rolled-back change is never heard of.
Inside a transaction both wait for its COMMIT and go with it as one statement
(core/atcommit.py), once per object per transaction.

Each process runs one `Hub` on its event loop: one LISTEN connection (psycopg,
async) on PostgreSQL, or a poll of the event log about once a second on SQLite,
fanned out to one bounded asyncio queue per open stream. The hub encodes each
event's bytes once and checks each stream's area by a precomputed path prefix, so
a stream costs an event one queue put and one write (no query, no thread hop).
A stream that falls too far behind is ended; its client reconnects with
`Last-Event-ID` and replays from the log.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import json
import logging
import os
import time
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from zhili.cockpit.conf import number
from zhili.cockpit.models import LiveEvent
from zhili.core import atcommit
from zhili.core.scoping import Scope

log = logging.getLogger(__name__)

CHANNEL = "zhili_live"
QUEUE_SIZE = 256  # events a slow stream may lag behind before it is ended
OVERFLOW = object()  # what a stream's queue gets when it fell behind
REPLAY_LIMIT = 1000
# An event's id is taken when its transaction writes it, and the transaction may
# commit after others that took later ids: "after the last id seen" would miss it.
# A replay or a poll also looks back this many ids over the last LOOKBACK_SECONDS;
# what the client already had comes twice, and the page drops it by its seq.
LOOKBACK_IDS = 200
LOOKBACK_SECONDS = 30

# The server's raw ASGI `send` of the request being served, set by zhili.asgi for
# /cockpit/stream only. With it a stream, once started, is written by the hub itself
# (one loop over the streams per event); without it (tests' request factories, other
# servers) the stream reads its queue as before.
RAW_SEND: contextvars.ContextVar = contextvars.ContextVar("zhili_live_raw_send", default=None)


def heartbeat_seconds() -> float:
    return number("ZHILI_LIVE_HEARTBEAT_SECONDS")


def poll_seconds() -> float:
    return number("ZHILI_LIVE_POLL_SECONDS")


def retention() -> timedelta:
    return timedelta(minutes=number("ZHILI_LIVE_RETENTION_MINUTES"))


class FanOutTiming:
    """The server's own side of bench/live.py (on when ZHILI_LIVE_TIMING=1): when the
    hub handed an event to the streams and when the last stream had written it to its
    socket, as one log line per event (`time.perf_counter`, i.e. CLOCK_MONOTONIC, so a
    client process on the same machine can set it beside its own clock)."""

    def __init__(self):
        self.enabled = os.environ.get("ZHILI_LIVE_TIMING") == "1"
        self.pending: dict[int, list] = {}

    def delivered(self, seq: int, streams: int, *, at: float | None = None,
                  total: int | None = None) -> None:
        """`streams` is how many writes to wait for (the hub's direct writes count as
        one, done when its loop ends); `total` the streams the event went to."""
        if len(self.pending) > 1000:  # streams that left before writing: forget them
            self.pending.clear()
        self.pending[seq] = [streams, at or time.perf_counter(),
                             streams if total is None else total]
        if not streams:
            self.written(seq, last=True)

    def written(self, seq: int, *, last: bool = False) -> None:
        entry = self.pending.get(seq)
        if entry is None:
            return
        entry[0] -= 1
        if entry[0] <= 0 or last:
            del self.pending[seq]
            log.warning("live timing seq=%d streams=%d delivered=%.6f written=%.6f",
                        seq, entry[2], entry[1], time.perf_counter())


timing = FanOutTiming()


# -- publishing (sync, inside the writer's transaction) ------------------------


def publish(kind: str, object_id, area_path: str) -> LiveEvent:
    """Tell the live maps that `kind` `object_id` in `area_path` changed.

    Call it inside the change's transaction (the other apps' signals do, see
    cockpit/hooks.py): the event row and the notification commit with it.
    """
    event = LiveEvent(kind=str(kind)[:24], object_id=str(object_id)[:40],
                      area_path=area_path or "", at=timezone.now())
    if atcommit.defer(connection, _deferred(event)):
        return event  # its `id` (the stream's seq) is known after the commit
    with transaction.atomic(savepoint=False):
        _publish_now(event)
    return event


# The event row and its NOTIFY as one statement, sent with the COMMIT
# (core/atcommit.py): a case's intake pays no round trip for the live map. The
# payload is `LiveEvent.as_dict()`'s, built by PostgreSQL from the new row.
PUBLISH_SQL = (
    f"WITH e AS (INSERT INTO {LiveEvent._meta.db_table} (kind, object_id, area_path, at) "
    "VALUES (%s, %s, %s, %s::timestamptz) RETURNING id, kind, object_id, area_path) "
    f"SELECT e.id, pg_notify('{CHANNEL}', json_build_object('seq', e.id, 'kind', e.kind, "
    "'id', e.object_id, 'path', e.area_path)::text) FROM e"
)


def _deferred(event: LiveEvent) -> atcommit.Write:
    def written(pk):
        event.id = int(pk)
        event._state.adding = False

    return atcommit.Write(sql=PUBLISH_SQL, name=b"zhili_live_publish",
                          params=[event.kind, event.object_id, event.area_path, event.at],
                          key=("live", event.kind, event.object_id), result=written,
                          now=lambda conn: _publish_now(event))


def _publish_now(event: LiveEvent) -> None:
    """Outside a transaction, on SQLite, or under a test case's transaction."""
    event.save(force_insert=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, json.dumps(event.as_dict())])


def events_after(seq: int, *, limit: int = REPLAY_LIMIT, now=None) -> list[dict]:
    """Logged events after `seq`, oldest first (the replay and the poll), with the
    recent ones just below it that may have committed after it (LOOKBACK_IDS)."""
    recent = (now or timezone.now()) - timedelta(seconds=LOOKBACK_SECONDS)
    late = Q(id__gt=seq - LOOKBACK_IDS, id__lte=seq, at__gte=recent)
    return [e.as_dict() for e in
            LiveEvent.objects.filter(Q(id__gt=seq) | late).order_by("id")[:limit]]


def last_seq() -> int:
    return LiveEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def oldest_seq() -> int | None:
    return LiveEvent.objects.order_by("id").values_list("id", flat=True).first()


def events_prune(*, now=None) -> int:
    """Drop events older than the retention (ZHILI_LIVE_RETENTION_MINUTES, default 60)."""
    cutoff = (now or timezone.now()) - retention()
    deleted, _ = LiveEvent.objects.filter(at__lt=cutoff).delete()
    return deleted


# -- the hub (async, one per process and event loop) ----------------------------

HEARTBEAT = b": heartbeat\n\n"


def encode(event: dict) -> bytes:
    """The event as the stream sends it: encoded once per process, not per stream."""
    data = json.dumps({"kind": event["kind"], "id": event["id"], "seq": event["seq"]})
    return f"id: {event['seq']}\ndata: {data}\n\n".encode()


class Subscription:
    """One open stream: its queue of `(seq, path, bytes)` items (or, once attached to
    the server's ASGI `send`, direct writes by the hub), and the viewer's area.

    The area check is precomputed from the viewer's scope: "everywhere", or a tuple
    of path prefixes for one C-level `str.startswith` per event. Until the stream
    knows its viewer's scope (it subscribes first, so nothing falls between the
    subscription and the replay) it takes everything; `limit_to` then drops what the
    viewer may not see from what it queued meanwhile.
    """

    __slots__ = ("everywhere", "prefixes", "queue", "overflowed", "quiet", "size", "send",
                 "replayed", "pending", "ended")

    def __init__(self, scope: Scope | None = None, size: int = QUEUE_SIZE):
        self.everywhere, self.prefixes = True, ()
        self.size = size
        self.queue: asyncio.Queue = asyncio.Queue(size)
        self.overflowed = False
        self.quiet = True  # nothing sent since the last heartbeat tick
        self.send = None  # the ASGI send, once the hub writes this stream itself
        self.replayed = frozenset()  # attached: the seqs that went out with the replay
        self.pending: list | None = None  # attached: bytes waiting for a paused transport
        self.ended: asyncio.Future | None = None
        if scope is not None:
            self.limit_to(scope)

    def accepts(self, path: str) -> bool:
        return self.everywhere or (bool(path) and path.startswith(self.prefixes))

    def limit_to(self, scope: Scope) -> None:
        self.everywhere, self.prefixes = scope.everywhere, tuple(scope.paths)
        kept = []
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if not isinstance(item, tuple) or self.accepts(item[1]):
                kept.append(item)
        for item in kept:
            self.queue.put_nowait(item)

    def offer(self, item) -> None:
        """Queue an item for the stream; a stream a whole queue behind is ended."""
        if self.overflowed:
            return
        self.quiet = False
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Behind by a whole queue: end the stream; the client replays from the log.
            self.overflowed = True
            self.queue.get_nowait()
            self.queue.put_nowait(OVERFLOW)

    # -- attached: the hub writes the stream through the server's ASGI send --------

    def attach(self, send, replayed: frozenset = frozenset()) -> asyncio.Future:
        """From now on the hub writes this stream itself: what queued meanwhile goes
        out first, in one write. Returns a future that is done when the stream ends
        (it fell too far behind, or it was unsubscribed)."""
        self.ended = asyncio.get_running_loop().create_future()
        parts = []
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if item is OVERFLOW:
                self.close()
                return self.ended
            if item is HEARTBEAT:
                parts.append(item)
            elif item[0] not in replayed:
                parts.append(item[2])
        self.send, self.replayed = send, replayed
        if parts:
            self.write(body(b"".join(parts)))
        return self.ended

    def write(self, message: dict) -> None:
        """Hand one body message to the server now. A send that would wait (the
        client's transport is paused) is finished by a task of its own, and what comes
        meanwhile waits for it, bounded: a stream that falls `size` writes behind is
        ended, and its client reconnects and replays from the log."""
        if self.send is None:
            return
        self.quiet = False
        if self.pending is not None:
            self.pending.append(message["body"])
            if len(self.pending) > self.size:
                self.close()
            return
        step = self.send(message)
        try:
            waiting = step.send(None)
        except StopIteration:
            return
        except Exception:  # the connection is gone
            self.close()
            return
        self.pending = []
        asyncio.get_running_loop().create_task(self._drain(step, waiting),
                                               context=contextvars.Context())

    async def _drain(self, step, waiting) -> None:
        try:
            while True:  # the rest of the send that waited, as a task would run it
                await (waiting if waiting is not None else asyncio.sleep(0))
                try:
                    waiting = step.send(None)
                except StopIteration:
                    break
            while self.pending and self.send is not None:
                data, self.pending = b"".join(self.pending), []
                await self.send(body(data))
            self.pending = None
        except Exception:
            self.close()

    def close(self) -> None:
        self.overflowed = True
        self.send = None  # anything the hub still hands it goes nowhere
        if self.ended is not None and not self.ended.done():
            self.ended.set_result(None)


def body(data: bytes) -> dict:
    """The ASGI message of a stream's bytes: built once per event for every stream."""
    return {"type": "http.response.body", "body": data, "more_body": True}


BEAT = body(HEARTBEAT)


class Hub:
    def __init__(self):
        self.subscriptions: set[Subscription] = set()
        self.task: asyncio.Task | None = None
        self.beats: asyncio.Task | None = None
        self.connected = asyncio.Event()
        self.seen: collections.deque = collections.deque(maxlen=4096)
        self._seen_set: set[int] = set()
        self.last = 0

    def subscribe(self, scope: Scope | None = None) -> Subscription:
        sub = Subscription(scope)
        self.subscriptions.add(sub)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done():
            # A fresh context: the listener must not live in the first request's
            # thread-sensitive context, which ends with that request.
            self.task = loop.create_task(self._run(), context=contextvars.Context())
        if self.beats is None or self.beats.done():
            self.beats = loop.create_task(self._beat(), context=contextvars.Context())
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscriptions.discard(sub)
        sub.close()

    def deliver(self, event: dict) -> int:
        """Hand one event to every stream whose viewer may see it; returns how many.

        The event is serialised once here; each stream gets the same bytes, so the
        cost per stream is a prefix check and a queue put (no query, no thread hop).
        """
        seq = int(event["seq"])
        if seq in self._seen_set:
            return 0
        if len(self.seen) == self.seen.maxlen:
            self._seen_set.discard(self.seen[0])
        self.seen.append(seq)
        self._seen_set.add(seq)
        self.last = max(self.last, seq)
        path = event.get("path") or ""
        started = time.perf_counter() if timing.enabled else 0.0
        data = encode(event)
        item, message = (seq, path, data), body(data)
        queued = written = 0
        for sub in self.subscriptions:  # neither offer() nor write() (un)subscribes
            if sub.everywhere or (path and path.startswith(sub.prefixes)):
                if sub.send is not None:
                    if seq not in sub.replayed:
                        sub.write(message)  # the server's send: the socket, now
                        written += 1
                else:
                    sub.offer(item)
                    queued += 1
        if timing.enabled:
            timing.delivered(seq, queued + (1 if written else 0), at=started,
                             total=queued + written)
            if written:
                timing.written(seq)
        return queued + written

    async def _beat(self) -> None:
        """One timer for every stream on the loop: a comment line on each stream that
        sent nothing since the last tick (so an idle stream hears one every one to two
        heartbeat periods), instead of a timeout around every stream's wait."""
        while self.subscriptions:
            await asyncio.sleep(heartbeat_seconds())
            self.tick()

    def tick(self) -> None:
        for sub in list(self.subscriptions):
            if sub.quiet:
                if sub.send is not None:
                    sub.write(BEAT)
                else:
                    sub.offer(HEARTBEAT)
            sub.quiet = True

    async def _run(self) -> None:
        postgres = connection.vendor == "postgresql"
        while True:
            try:
                await (self._listen() if postgres else self._poll())
            except asyncio.CancelledError:
                raise
            except Exception:  # the database went away: retry, and catch up from the log
                log.warning("live updates: listener lost, retrying", exc_info=True)
                self.connected.clear()
                await asyncio.sleep(1)

    async def _listen(self) -> None:
        import psycopg

        async with await psycopg.AsyncConnection.connect(**_conninfo(), autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            # Whatever committed while nobody listened (start-up, a reconnect).
            cursor = await conn.execute(
                "SELECT id, kind, object_id, area_path FROM cockpit_liveevent WHERE id > %s "
                "ORDER BY id LIMIT %s", [self.last if self.last else 2**62, REPLAY_LIMIT])
            for seq, kind, object_id, path in await cursor.fetchall():
                self.deliver({"seq": seq, "kind": kind, "id": object_id, "path": path})
            if not self.last:
                row = await (await conn.execute("SELECT max(id) FROM cockpit_liveevent")).fetchone()
                self.last = row[0] or 0
            self.connected.set()
            async for note in conn.notifies():
                try:
                    self.deliver(json.loads(note.payload))
                except (ValueError, KeyError, TypeError):
                    log.warning("live updates: bad notification %r", note.payload[:200])

    async def _poll(self) -> None:
        from asgiref.sync import sync_to_async

        if not self.last:
            self.last = await sync_to_async(last_seq)()
        self.connected.set()
        while True:
            for event in await sync_to_async(events_after)(self.last):
                self.deliver(event)
            await asyncio.sleep(poll_seconds())


def _conninfo() -> dict:
    s = connection.settings_dict
    params = {"dbname": s.get("NAME"), "user": s.get("USER"), "password": s.get("PASSWORD"),
              "host": s.get("HOST"), "port": s.get("PORT")}
    return {k: str(v) for k, v in params.items() if v}


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """This process's hub on the running event loop (one per loop: tests start several)."""
    loop = asyncio.get_running_loop()
    for other in [key for key in _hubs if key.is_closed()]:
        del _hubs[other]
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]
