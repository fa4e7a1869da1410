"""Sensor readings over a real Mosquitto: batched, acknowledged after commit, stored
once through restarts of the consumer (SIGKILL) and of the broker (SIGTERM)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from zhili.conftest import on_postgres
from zhili.warning.models import Reading, SensorState
from zhili.warning.mqtt import Consumer, sensor_of
from zhili.warning.payloads import BadPayload, readings_from
from zhili.warning.tests.conftest import publish

pytestmark = pytest.mark.django_db(transaction=True)


def test_topics_and_payloads_are_read_strictly():
    assert sensor_of("zhili/sensors/S-1/readings") == "S-1"
    assert sensor_of("zhili/sensors//readings") is None
    assert sensor_of("other/S-1") is None
    assert len(readings_from("S-1", b'{"readings": [{"t": 1, "v": 2}, {"time": 2, "value": 3}]}')) == 2
    assert len(readings_from("S-1", b'[{"t": 1, "v": 2}]')) == 1
    for bad in (b"not json", b'"text"', b'[{"t": 1}]', b"[" * 3000 + b"]" * 3000, b"\xff\xfe"):
        with pytest.raises(BadPayload):
            readings_from("S-1", bad)


def messages(sensor, start, count, per_message=5):
    out = []
    for m in range(count):
        readings = [{"t": (start + timedelta(seconds=m * per_message + i)).isoformat(),
                     "v": 1.0 + i} for i in range(per_message)]
        out.append((f"zhili/sensors/{sensor}/readings", json.dumps({"readings": readings})))
    return out


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def stored(sensor="S-RAIN-1") -> int:
    return Reading.objects.filter(sensor__code=sensor).count()


@pytest.fixture
def running():
    """running(consumer, target=None) -> its thread, started. However the test ends,
    each consumer is stopped and its thread waited for: one left reconnecting to a
    stopped broker, its committer child with it, outlives the test."""
    started = []

    def start(consumer, target=None):
        thread = threading.Thread(target=target or consumer.run, daemon=True)
        thread.start()
        started.append((consumer, thread))
        return thread

    yield start
    for consumer, _ in started:
        consumer.stop.set()
    for _, thread in started:
        thread.join(30)


def test_readings_over_mqtt_are_stored_and_bad_messages_counted(slope, broker, running):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    stop = threading.Event()
    consumer = Consumer(url=broker.url, client_id="zhili-test-consumer", stop=stop, batch=50)
    thread = running(consumer)
    assert consumer.connected.wait(10)
    publish(broker.url, messages("S-RAIN-1", start, 40)
            + [("zhili/sensors/S-RAIN-1/readings", "garbage"),
               ("zhili/sensors/NOPE/readings", json.dumps({"t": start.isoformat(), "v": 1}))])
    # Watched through the consumer's own counts: on SQLite's shared in-memory test
    # database a read from this thread during the consumer's write is "table locked".
    assert wait_for(lambda: consumer.stats.messages == 42, 120)
    stop.set()
    thread.join(10)
    assert stored() == 200
    assert consumer.stats.rejected["unknown sensor"] == 1
    assert SensorState.objects.get(sensor__code="S-RAIN-1").rejected == 1


@pytest.mark.postgres_only
def test_killed_consumer_and_restarted_broker_lose_nothing_and_store_nothing_twice(slope, broker):
    """A consumer process is SIGKILLed mid-stream and started again; then the broker
    is restarted with SIGTERM while readings flow. Every reading is stored once."""
    from django.db import connection

    assert on_postgres()
    settings_dict = connection.settings_dict
    env = {**os.environ, "ZHILI_DATABASE_URL":
           f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}:"
           f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}",
           "ZHILI_DB_POOL": "0"}

    def consumer():
        return subprocess.Popen([sys.executable, "-m", "zhili", "ingest", "--url", broker.url,
                                 "--client-id", "zhili-ingest-fault", "--batch", "20"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    start = timezone.now().replace(microsecond=0) - timedelta(hours=5)  # all in the past
    process = consumer()
    try:
        # A probe reading: once it is stored, the consumer's session and subscription exist.
        probe = [("zhili/sensors/S-RAIN-1/readings",
                  json.dumps({"t": (start - timedelta(days=1)).isoformat(), "v": 0}))]
        assert wait_for(lambda: publish(broker.url, probe, client_id="probe") or stored() == 1, 30)
        batch = messages("S-RAIN-1", start, 400)
        publisher = threading.Thread(target=publish, args=(broker.url, batch))
        publisher.start()
        assert wait_for(lambda: stored() > 100, 120)
        process.send_signal(signal.SIGKILL)  # mid-stream: some messages unacknowledged
        process.wait(10)
        publisher.join(60)
        killed_at = stored()
        process = consumer()
        assert wait_for(lambda: stored() == 2001, 300), (killed_at, stored())

        # The broker restarts (SIGTERM saves its store) while more readings flow.
        later = start + timedelta(hours=1)
        publisher = threading.Thread(target=publish, args=(broker.url, messages("S-RAIN-1", later, 200)),
                                     kwargs={"client_id": "publisher-2"})
        publisher.start()
        publisher.join(60)
        broker.stop(signal.SIGTERM)
        broker.start()
        assert wait_for(lambda: stored() == 3001, 300), stored()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    # Stored once each: the unique (sensor, time) index would refuse a second row,
    # and the count equals the readings published.
    assert stored() == 3001


def test_a_window_that_fails_unexpectedly_stops_the_consumer_unacknowledged(slope, broker,
                                                                              monkeypatch, running):
    """Windows commit in the committer thread: a bug there must not leave the network
    thread reading on for ever with nothing committed. The consumer stops with the
    error (its supervisor restarts it) and the window stays with the broker."""
    from zhili.warning import mqtt as consumer_module

    def broken(**_kwargs):
        raise ValueError("a bug in a rule")

    monkeypatch.setattr(consumer_module, "readings_ingest", broken)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    consumer = Consumer(url=broker.url, client_id="zhili-test-broken", batch=10)
    failure = {}

    def run():
        try:
            consumer.run()
        except Exception as exc:  # any: the assertion below says which
            failure["error"] = exc

    thread = running(consumer, run)
    assert consumer.connected.wait(30)
    publish(broker.url, messages("S-RAIN-1", start, 3))
    thread.join(120)
    # Said in full when it fails (it failed once in CI, on a loaded machine).
    assert not thread.is_alive(), f"still consuming: {consumer.stats}"
    assert isinstance(failure.get("error"), ValueError), failure
    assert str(failure["error"]) == "a bug in a rule"
    assert consumer.stats.messages == 0  # nothing acknowledged


@pytest.mark.postgres_only
def test_a_committer_process_that_dies_stops_the_consumer_unacknowledged(slope, broker,
                                                                         monkeypatch, running):
    """On PostgreSQL windows commit in a child process. If it dies mid-window (killed,
    out of memory), the network process must not wait for ever nor acknowledge: it
    stops with the error, and the broker sends the window to the next consumer,
    which stores it once."""
    from zhili.warning import mqtt as consumer_module

    real = consumer_module.readings_ingest
    monkeypatch.setattr(consumer_module, "readings_ingest", lambda **_kw: os._exit(3))
    start = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    consumer = Consumer(url=broker.url, client_id="zhili-test-dying", batch=10)
    failure = {}

    def run():
        try:
            consumer.run()
        except Exception as exc:  # any: the assertion below says which
            failure["error"] = exc

    thread = running(consumer, run)
    assert consumer.connected.wait(30)
    publish(broker.url, messages("S-RAIN-1", start, 3))
    thread.join(120)
    assert not thread.is_alive(), f"still consuming: {consumer.stats}"
    assert isinstance(failure.get("error"), consumer_module.CommitterDied), failure
    assert "exit code 3" in str(failure["error"])
    assert consumer.stats.messages == 0 and stored() == 0

    monkeypatch.setattr(consumer_module, "readings_ingest", real)
    stop = threading.Event()
    again = Consumer(url=broker.url, client_id="zhili-test-dying", batch=10, stop=stop)
    thread = running(again)
    assert wait_for(lambda: again.stats.messages == 3, 60)
    stop.set()
    thread.join(20)
    assert not thread.is_alive()
    assert stored() == 15
