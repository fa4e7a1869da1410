"""The MQTT consumer behind `zhili ingest`: readings from the broker into the store.

Topic `zhili/sensors/{sensor_code}/readings`, QoS 1, MQTT 5. Messages are
taken in batches (up to `batch` messages or `window` seconds), ingested in one
transaction, and acknowledged only after it commits (paho's manual_ack): a
consumer killed at any moment leaves its unacknowledged messages with the
broker, which sends them again; the store is idempotent on (sensor, time),
so nothing is lost and nothing is stored twice.

Two ways to run several consumers (docs/warning.md says which to pick):
- one persistent session per consumer (`clean_start=False`, a stable client
  id): messages wait at the broker while it is down;
- a shared subscription (`--share GROUP`) splits the load; with Mosquitto a
  member's share keeps going to its session while it is offline, so each
  member must come back (run them under a supervisor).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.db import InterfaceError, OperationalError, close_old_connections

from zhili.warning.ingest import readings_ingest, rejects_record, sensors_preload
from zhili.warning.payloads import BadPayload, readings_from

logger = logging.getLogger("zhili.ingest")
TOPIC = "zhili/sensors/+/readings"
SESSION_EXPIRY_S = 2 * 24 * 3600
BATCH = 1000      # messages per window (one transaction)
WINDOW_S = 0.2    # the longest a window waits for its messages
IDLE_S = 0.01     # ... and it closes early once none has come for this long
COMMIT_POLL_S = 0.002  # how often the network loop looks for a committed window


def sensor_of(topic: str) -> str | None:
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == "zhili" and parts[1] == "sensors" and parts[3] == "readings":
        return parts[2] or None
    return None


def broker_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"unsupported broker URL {url!r} (use mqtt://host:port)")
    return parts.hostname or "127.0.0.1", parts.port or 1883


@dataclass
class Stats:
    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    late: int = 0
    rejected: Counter = field(default_factory=Counter)

    def line(self) -> str:
        bad = sum(self.rejected.values())
        return (f"{self.messages} messages, {self.stored} readings stored, {self.duplicates} "
                f"duplicates, {self.late} late, {bad} rejected")


class Consumer:
    def __init__(self, *, url: str, client_id: str, share: str | None = None,
                 batch: int = BATCH, window: float = WINDOW_S, stop: threading.Event | None = None,
                 preload: bool = True):
        import paho.mqtt.client as mqtt

        self.host, self.port = broker_address(url)
        self.share = share
        self.batch, self.window = batch, window
        self.stop = stop or threading.Event()
        self.preload = preload
        self.pending: list = []           # received, not yet in a window
        self._first = self._last = 0.0    # when the pending messages began and last came
        self.stats = Stats()
        # One window commits in the committer thread while this one reads the next:
        # the database's share of a window (about half of it) no longer stops the
        # network loop. Windows still commit one at a time, in order.
        self._windows: queue.SimpleQueue = queue.SimpleQueue()   # (generation, messages)
        self._committed: deque = deque()  # (generation, messages, report, bad), to acknowledge
        self._committing = False
        self._generation = 0              # a new connection: older windows' acks are void
        self._failure: BaseException | None = None  # what stopped the committer
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def _on_message(self, _client, _userdata, message):
        self._last = time.monotonic()
        if not self.pending:
            self._first = self._last
        self.pending.append(message)

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties):
        if reason_code.is_failure:
            logger.error("broker refused the connection: %s", reason_code)
            return
        topic = f"$share/{self.share}/{TOPIC}" if self.share else TOPIC
        client.subscribe(topic, qos=1)
        self.connected.set()
        logger.info("subscribed to %s on %s:%s", topic, self.host, self.port)

    def run(self) -> Stats:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        # Two windows in flight: one committing, the next one arriving meanwhile
        # (the broker's max_inflight_messages must allow as many).
        properties.ReceiveMaximum = min(65535, 2 * self.batch)
        if self.preload:  # every sensor in the cache: no window waits for a sensor query
            started = time.perf_counter()
            known = sensors_preload()
            close_old_connections()
            logger.info("%d sensors cached in %.1fs", known, time.perf_counter() - started)
        self.client.connect(self.host, self.port, keepalive=30, clean_start=False,
                            properties=properties)
        committer = threading.Thread(target=self._commit_windows, name="zhili-ingest-commit",
                                     daemon=True)
        committer.start()
        try:
            self._serve()
        finally:
            self._windows.put(None)
            committer.join(60)
            self._acknowledge()  # what committed before the stop
            self.client.disconnect()
        return self.stats

    def _serve(self) -> None:
        """paho's network loop, in this thread only; windows go to the committer
        thread and come back to be acknowledged. (paho's loop_start thread with the
        windows committed from the caller stood still between commits on a busy
        machine: each GIL hand-over waited for the other thread to be scheduled.
        Here the committer mostly waits on PostgreSQL, without the GIL.) The broker
        has sent at most two windows (the receive maximum): one committing, one
        being read."""
        import paho.mqtt.client as mqtt

        backoff = 0.5
        while not self.stop.is_set():
            if self._committing:
                wait = COMMIT_POLL_S  # look again soon: its acknowledgements are due then
            elif self.pending:
                wait = min(self._first + self.window, self._last + IDLE_S) - time.monotonic()
            else:
                wait = 0.5
            rc = self.client.loop(timeout=max(0.0, wait))
            self._acknowledge()
            if self._failure is not None:
                raise self._failure
            if rc != mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS:
                # Connection lost: what was received and not acknowledged comes again
                # from the broker (persistent session), so it is dropped here, and the
                # window committing now is not acknowledged on the new connection.
                self.pending.clear()
                self._generation += 1
                if self.stop.wait(backoff):
                    return
                backoff = min(30.0, backoff * 2)
                try:
                    self.client.reconnect()
                except OSError as exc:
                    logger.warning("broker unreachable (%s); retrying", exc)
                continue
            backoff = 0.5
            self._window_maybe()

    def _window_maybe(self) -> None:
        """Commit a window when `batch` messages are pending, or `window` seconds
        have passed since the first, or none has come for IDLE_S: a backlog fills
        windows at once, a trickle is committed within about IDLE_S."""
        if not self.pending or self._committing:
            return
        now = time.monotonic()
        if (len(self.pending) >= self.batch or now >= self._first + self.window
                or now >= self._last + IDLE_S):
            window = self.pending[:self.batch]
            del self.pending[:self.batch]
            self._first = self._last = now
            self._committing = True
            self._windows.put((self._generation, window))

    def _commit_windows(self) -> None:
        """The committer thread: each window stored and committed, then handed back
        to the network thread (paho's client is used from that thread only)."""
        try:
            while (job := self._windows.get()) is not None:
                generation, messages = job
                done = self.ingest(messages)
                if done is None:
                    return  # stopping before it committed: the broker sends them again
                self._committed.append((generation, messages, *done))
        except BaseException as exc:  # re-raised by the network thread: the consumer stops
            self._failure = exc
        finally:
            close_old_connections()

    def _acknowledge(self) -> None:
        while self._committed:
            generation, messages, report, bad = self._committed.popleft()
            self._committing = False
            if generation == self._generation:
                self._count(messages, report, bad)

    def ingest(self, messages):
        """Store one window; (report, bad), or None when stopping before it committed."""
        readings, bad = [], {}
        for message in messages:
            sensor = sensor_of(message.topic)
            if sensor is None:
                bad.setdefault(message.topic[:64], Counter())["topic is not zhili/sensors/ID/readings"] += 1
                continue
            try:
                readings += readings_from(sensor, message.payload)
            except BadPayload as exc:
                bad.setdefault(sensor, Counter())[str(exc)[:120]] += 1
        for attempt in range(1, 1_000_000):
            try:
                report = readings_ingest(readings=readings) if readings else None
                if bad:
                    rejects_record(bad)
                break
            except (OperationalError, InterfaceError) as exc:
                # The database went away: keep the messages unacknowledged and retry;
                # other sensors' messages wait with them rather than being dropped.
                close_old_connections()
                logger.warning("ingest failed (%s); retry %d", exc, attempt)
                if self.stop.wait(min(30, 0.5 * attempt)):
                    return None  # stopping: the broker keeps the unacknowledged messages
        return report, bad

    def _count(self, messages, report, bad) -> None:
        for message in messages:
            self.client.ack(message.mid, message.qos)
        self.stats.messages += len(messages)
        for reasons in bad.values():
            self.stats.rejected.update(reasons)
        if report is not None:
            self.stats.stored += report.stored
            self.stats.duplicates += report.duplicates
            self.stats.late += report.late
            self.stats.rejected.update(report.rejected)
