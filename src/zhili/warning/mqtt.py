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

import atexit
import gc
import logging
import pickle
import queue
import threading
import time
from collections import Counter
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
GC_YOUNG = 20_000       # allocations between collections in the network loop
IN_FLIGHT_WINDOWS = 3  # one committing, one full and waiting for it, one arriving
STOP_S = 60             # how long a stop waits for the window in flight


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
    cpu_network_s: float = 0.0    # the network loop's CPU time (its thread)
    cpu_committer_s: float = 0.0  # the committer's (its process, or its thread)
    busy_committer_s: float = 0.0  # wall-clock time the committer spent on windows

    def line(self) -> str:
        bad = sum(self.rejected.values())
        return (f"{self.messages} messages, {self.stored} readings stored, {self.duplicates} "
                f"duplicates, {self.late} late, {bad} rejected")


class CommitterDied(RuntimeError):
    """The committer process ended without answering: its window stays unacknowledged."""


@dataclass(slots=True)
class Committed:
    """What a committed window did (a few numbers: what crosses the pipe back)."""
    stored: int = 0
    duplicates: int = 0
    late: int = 0
    rejected: Counter = field(default_factory=Counter)
    cpu_s: float = 0.0   # the committer's CPU time so far (process or thread)
    busy_s: float = 0.0  # the wall-clock time of this window in the committer


def window_ingest(pairs, wait) -> Committed | None:
    """Store one window of raw (topic, payload) pairs in one transaction; what it
    did, or None when told to stop before it committed. `wait(seconds)` sleeps
    between retries and is true when the consumer is stopping."""
    started = time.perf_counter()
    readings, bad = [], {}
    for topic, payload in pairs:
        sensor = sensor_of(topic)
        if sensor is None:
            bad.setdefault(topic[:64], Counter())["topic is not zhili/sensors/ID/readings"] += 1
            continue
        try:
            readings += readings_from(sensor, payload)
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
            if wait(min(30, 0.5 * attempt)):
                return None  # stopping: the broker keeps the unacknowledged messages
    done = Committed(busy_s=time.perf_counter() - started)
    for reasons in bad.values():
        done.rejected.update(reasons)
    if report is not None:
        done.stored, done.duplicates, done.late = report.stored, report.duplicates, report.late
        done.rejected.update(report.rejected)
    return done


class ThreadCommitter:
    """Windows committed by a thread of this process: for an in-memory SQLite
    database (the tests'), which another process cannot open. The network loop
    and the window's Python then share one GIL."""

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self._windows: queue.SimpleQueue = queue.SimpleQueue()
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="zhili-ingest-commit", daemon=True)
        self._thread.start()

    def submit(self, pairs) -> None:
        self._windows.put(pairs)

    def result(self, timeout: float = 0.0):
        """('ok', Committed) / ('stopped', None) / ('error', exc) of the window in
        flight, or None if it has not finished yet."""
        try:
            return self._done.get(timeout=timeout) if timeout else self._done.get_nowait()
        except queue.Empty:
            return None

    def _run(self) -> None:
        try:
            while (pairs := self._windows.get()) is not None:
                done = window_ingest(pairs, self.stop.wait)
                if done is not None:
                    done.cpu_s = time.thread_time()
                self._done.put(("ok", done) if done is not None else ("stopped", None))
        except BaseException as exc:  # re-raised by the network loop: the consumer stops
            self._done.put(("error", exc))
        finally:
            close_old_connections()

    def close(self, timeout: float) -> None:
        self._windows.put(None)
        self._thread.join(timeout)


class ProcessCommitter:
    """Windows committed by a child process (forked, so it has this one's settings,
    code and sensor cache): the window's Python — parsing, checks, the rules'
    state, numpy — and the database round trips run on their own interpreter,
    beside the network loop instead of taking turns with it for one GIL. Windows
    cross a pipe as pickled (topic, payload) pairs, and a few numbers come back.
    The child ignores SIGINT/SIGTERM: the network process drains it, and it ends
    when its pipe closes (so also when the network process is killed)."""

    def __init__(self):
        import multiprocessing

        from django.db import connections

        connections.close_all()  # no open connection is shared with the child
        context = multiprocessing.get_context("fork")
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(target=_committer_main, args=(child_end, self._pipe),
                                        name="zhili-ingest-commit", daemon=True)
        self._process.start()
        child_end.close()  # so the child's death reads as end of file here
        # The child ignores SIGTERM, and multiprocessing's own exit hook stops a
        # daemonic child with SIGTERM and then waits for it: a committer not closed
        # by its consumer (one stuck on a window, one whose thread was abandoned)
        # would hold this process's exit for ever. This hook runs before that one.
        atexit.register(self._at_exit)

    def submit(self, pairs) -> None:
        try:
            self._pipe.send_bytes(pickle.dumps(pairs, pickle.HIGHEST_PROTOCOL))
        except OSError as exc:
            raise self._died() from exc

    def result(self, timeout: float = 0.0):
        try:
            if not self._pipe.poll(timeout):
                return None
            return pickle.loads(self._pipe.recv_bytes())
        except (EOFError, OSError) as exc:
            raise self._died() from exc

    def _died(self) -> CommitterDied:
        self._process.join(1)
        return CommitterDied(f"the committer process ended (exit code {self._process.exitcode})")

    def close(self, timeout: float) -> None:
        atexit.unregister(self._at_exit)
        if self._pipe.closed:
            return
        try:
            self._pipe.send_bytes(b"")  # stop, after the window in flight
        except OSError:
            pass
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._pipe.close()

    def _at_exit(self) -> None:
        self.close(5)  # what it has not committed stays with the broker


def _committer_main(pipe, parent_end) -> None:
    """The committer process: one window at a time from the pipe, committed, answered."""
    import signal

    from django.db import connections

    parent_end.close()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    # Connections and pools inherited from the parent belong to it: forget them
    # unclosed (psycopg closes nothing of another process), open our own.
    for conn in connections.all(initialized_only=True):
        conn.connection = None
    pools = getattr(type(connections["default"]), "_connection_pools", None)
    if pools:
        _inherited.append(dict(pools))
        pools.clear()

    def stopping(seconds: float) -> bool:  # between retries: the only message now is "stop"
        return pipe.poll(seconds)

    try:
        while data := pipe.recv_bytes():
            try:
                done = window_ingest(pickle.loads(data), stopping)
            except BaseException as exc:
                try:
                    pickle.dumps(exc)
                except Exception:
                    exc = RuntimeError(f"{type(exc).__name__}: {exc}")
                pipe.send_bytes(pickle.dumps(("error", exc)))
                return
            if done is None:
                pipe.send_bytes(pickle.dumps(("stopped", None)))
                return
            done.cpu_s = time.process_time()
            pipe.send_bytes(pickle.dumps(("ok", done), pickle.HIGHEST_PROTOCOL))
    except (EOFError, OSError):
        pass  # the network process went away: its windows stay with the broker
    finally:
        close_old_connections()


_inherited: list = []  # the parent's connection pools, kept from being collected here


class Consumer:
    def __init__(self, *, url: str, client_id: str, share: str | None = None,
                 batch: int = BATCH, window: float = WINDOW_S, stop: threading.Event | None = None,
                 preload: bool = True, committer: str = "auto"):
        import paho.mqtt.client as mqtt

        if committer not in ("auto", "process", "thread"):
            raise ValueError(f"committer must be auto, process or thread, not {committer!r}")
        self.host, self.port = broker_address(url)
        self.share = share
        self.batch, self.window = batch, window
        self.stop = stop or threading.Event()
        self.preload = preload
        self.committer_kind = committer
        self.pending: list = []           # received, not yet in a window
        self._first = self._last = 0.0    # when the pending messages began and last came
        self.stats = Stats()
        # One window commits in the committer (a process, see ProcessCommitter) while
        # this loop reads the next. Windows commit one at a time, in order.
        self._committer = None
        self._in_flight: tuple | None = None  # (generation, messages) committing now
        self._generation = 0              # a new connection: older windows' acks are void
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

    def _committer_start(self):
        """A committer process, unless the database is SQLite in memory (only this
        process can open it) or a thread was asked for."""
        from django.db import connection

        kind = self.committer_kind
        if kind == "auto":
            in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
            kind = "thread" if in_memory else "process"
        logger.info("windows commit in a %s", kind)
        return ProcessCommitter() if kind == "process" else ThreadCommitter(self.stop)

    def run(self) -> Stats:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        # Three windows in flight: one committing, one full and waiting for it, one
        # arriving (the broker's max_inflight_messages must allow as many).
        properties.ReceiveMaximum = min(65535, IN_FLIGHT_WINDOWS * self.batch)
        if self.preload:  # every sensor in the cache: no window waits for a sensor query
            started = time.perf_counter()
            known = sensors_preload()
            close_old_connections()
            logger.info("%d sensors cached in %.1fs", known, time.perf_counter() - started)
        # Started before the broker's socket exists, so the child holds no copy of it.
        self._committer = self._committer_start()
        # paho allocates a dozen objects a message; each collection of the oldest
        # generation then walked every object of the process (Django, the sensor
        # cache): a third of the network loop's CPU. What exists now is frozen out
        # of the collector's walks (still freed by reference counting), and the
        # young generation is collected every GC_YOUNG allocations, not 700: the two
        # windows' messages in memory were walked again and again.
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(GC_YOUNG, *thresholds[1:])
        cpu = time.thread_time()
        try:
            self.client.connect(self.host, self.port, keepalive=30, clean_start=False,
                                properties=properties)
            self._serve()
        finally:
            self._drain()
            self.stats.cpu_network_s += time.thread_time() - cpu
            self.client.disconnect()
            gc.set_threshold(*thresholds)
            gc.unfreeze()
        return self.stats

    def _drain(self) -> None:
        """Stopping: the window in flight commits (or not) and is acknowledged if it
        did; then the committer ends. An error here must not hide the first one."""
        try:
            if self._in_flight is not None:
                self._answer(self._committer.result(STOP_S))
        except BaseException as exc:  # the committer failed too: nothing more to acknowledge
            logger.warning("stopping: the window in flight was not committed (%s)", exc)
        finally:
            self._committer.close(STOP_S)

    def _serve(self) -> None:
        """paho's network loop, in this thread only; windows go to the committer and
        come back to be acknowledged. (paho's loop_start thread with the windows
        committed from the caller stood still between commits on a busy machine.)
        The broker has sent at most IN_FLIGHT_WINDOWS windows (the receive
        maximum): one committing, the others being read."""
        import paho.mqtt.client as mqtt

        backoff = 0.5
        while not self.stop.is_set():
            if self._in_flight is not None:
                wait = COMMIT_POLL_S  # look again soon: its acknowledgements are due then
            elif self.pending:
                wait = min(self._first + self.window, self._last + IDLE_S) - time.monotonic()
            else:
                wait = 0.5
            rc = self.client.loop(timeout=max(0.0, wait))
            if self._in_flight is not None:
                self._answer(self._committer.result())
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
        if not self.pending or self._in_flight is not None:
            return
        now = time.monotonic()
        if (len(self.pending) >= self.batch or now >= self._first + self.window
                or now >= self._last + IDLE_S):
            window = self.pending[:self.batch]
            del self.pending[:self.batch]
            self._first = self._last = now
            self._in_flight = (self._generation, window)
            # Only bytes cross to the committer; the messages stay here for their acks.
            self._committer.submit([(m.topic, m.payload) for m in window])

    def _answer(self, answer) -> None:
        """The committer's answer about the window in flight (None: not yet)."""
        if answer is None:
            return
        (generation, messages), self._in_flight = self._in_flight, None
        status, value = answer
        if status == "error":
            raise value  # the consumer stops, the window unacknowledged
        if status == "ok" and generation == self._generation:
            self._count(messages, value)

    def _count(self, messages, done: Committed) -> None:
        for message in messages:
            self.client.ack(message.mid, message.qos)
        self.stats.messages += len(messages)
        self.stats.stored += done.stored
        self.stats.duplicates += done.duplicates
        self.stats.late += done.late
        self.stats.rejected.update(done.rejected)
        self.stats.cpu_committer_s = done.cpu_s
        self.stats.busy_committer_s += done.busy_s
