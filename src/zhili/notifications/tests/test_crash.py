"""Real worker processes SIGKILLed and restarted (PostgreSQL: the worker is another
process on the same database):

- halfway through a 100,000-person fan-out and again halfway through its
  delivery: every person ends with exactly one delivery and one SMS;
- halfway through 55 one-at-a-time SMS (issue 9 item 5): at most the one in
  flight is sent again, and its idempotency key makes it one SMS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from zhili.notifications import services
from zhili.notifications.models import Delivery, Message
from zhili.registry.models import Person

SRC = Path(__file__).resolve().parents[3]
GATEWAY = "zhili.notifications.tests.channels.FileGatewayChannel"

SETTINGS = '''
from zhili.settings import *  # noqa: F403

ZHILI_NOTIFICATION_CHANNELS = {{"sms": {{"backend": "{gateway}", "batch": {batch}}}}}
ZHILI_NOTIFICATION_FANOUT_CHUNK = 2_000  # 50 chunks for 100,000: a kill lands halfway
ZHILI_NOTIFICATION_FANOUT_LEASE = 1  # seconds: the restarted worker takes over soon
ZHILI_NOTIFICATION_LEASE = 2
'''


def persons_by_sql(grid, count: int, prefix: str) -> None:
    """Registry persons in one statement (the test is about the fan-out, not the registry)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Person._meta.db_table} (id_number, name, phone, address, household_no,"
            " grid_id, area_path, created_at, updated_at)"
            " SELECT %s || lpad(i::text, 10, '0'), '居民' || i, '138' || lpad(i::text, 8, '0'),"
            " '', '', %s, %s, now(), now() FROM generate_series(1, %s) AS i",
            [prefix, grid.pk, grid.path, count])


@pytest.fixture
def worker(tmp_path):
    """Starts `zhili worker` processes on the test database; kills any left at the end."""
    started: list[subprocess.Popen] = []
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crash_settings",
           "PYTHONPATH": f"{tmp_path}{os.pathsep}{SRC}",
           "ZHILI_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "ZHILI_DATA_DIR": str(tmp_path / "data"),
           "ZHILI_TEST_GATEWAY_LOG": str(tmp_path / "gateway.log")}

    def start(*, batch: int, delay: float = 0.0) -> subprocess.Popen:
        (tmp_path / "crash_settings.py").write_text(SETTINGS.format(gateway=GATEWAY, batch=batch))
        out = open(tmp_path / f"worker{len(started) + 1}.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", "zhili", "worker", "--interval", "0.2"],
            env={**env, "ZHILI_TEST_GATEWAY_DELAY": str(delay)}, stdout=out,
            stderr=subprocess.STDOUT)
        started.append(process)
        return process

    start.gateway = tmp_path / "gateway.log"
    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def wait_for(condition, what: str, seconds: float = 900):
    deadline = time.monotonic() + seconds  # a bound on a hung run, not a timing assertion
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


def sends(log: Path, keys: set[str]) -> list[str]:
    """Every call the gateway got for these keys, repeats included."""
    if not log.exists():
        return []
    return [line for line in log.read_text().split() if line in keys]


def keys_of(message) -> set[str]:
    return {f"zhili-delivery-{pk}" for pk in
            Delivery.objects.filter(message=message).values_list("pk", flat=True).iterator()}


def broadcast(actor, prefix: str, dedupe: str):
    return services.message_broadcast(
        actor=actor, recipients=Person.objects.filter(id_number__startswith=prefix),
        kind="warning.issued", title="山洪橙色预警", body="请沿河人员立即转移", dedupe=dedupe,
        channels=("sms",))


@pytest.mark.postgres_only
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killed_mid_fanout_and_mid_delivery_each_person_gets_one_delivery_and_one_sms(
        worker, city_admin, grid, reseed_after):
    persons = 100_000
    persons_by_sql(grid, persons, "CRASH")
    message = broadcast(city_admin, "CRASH", "warning:crash:fanout")

    def progress():
        return Message.objects.values_list("fanout_count", "fanout_state").get(pk=message.pk)

    # A bulk-SMS gateway: 100 messages a call, so a call is what can be in flight.
    first = worker(batch=100)
    wait_for(lambda: 0 < progress()[0] < persons // 2, "the fan-out to be under way")
    kill(first)
    assert progress()[1] == "running" and progress()[0] < persons

    second = worker(batch=100)  # the task is not re-run: the poller resumes the fan-out
    wait_for(lambda: progress()[1] == "done", "the fan-out to finish")
    keys = keys_of(message)
    assert len(keys) == persons
    wait_for(lambda: len(sends(worker.gateway, keys)) > persons // 4, "delivery to be under way")
    kill(second)
    assert len(set(sends(worker.gateway, keys))) < persons

    third = worker(batch=100)  # takes the dead worker's claim once its lease runs out
    unsent = Delivery.objects.filter(message=message).exclude(status="sent")
    wait_for(lambda: not unsent.exists(), "every delivery to be sent")
    third.send_signal(signal.SIGTERM)
    third.wait(timeout=120)

    rows = Delivery.objects.filter(message=message)
    assert rows.count() == rows.values("person_id").distinct().count() == persons
    calls = sends(worker.gateway, keys)
    assert set(calls) == keys  # with the key, the gateway sends each person one SMS
    assert len(calls) - len(keys) <= 100  # at most the one call in flight went twice


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_resends_at_most_the_sms_in_flight(worker, city_admin, grid,
                                                                     reseed_after):
    persons_by_sql(grid, 55, "ISSUE9")
    message = broadcast(city_admin, "ISSUE9", "warning:crash:55")
    services.message_fanout_run(message_id=message.pk)  # the deliveries exist before the worker
    keys = keys_of(message)
    assert len(keys) == 55
    first = worker(batch=1, delay=0.05)  # one SMS a call
    wait_for(lambda: len(sends(worker.gateway, keys)) >= 20, "a third of the SMS to be sent")
    kill(first)
    assert len(set(sends(worker.gateway, keys))) < 55

    second = worker(batch=1)
    unsent = Delivery.objects.filter(message=message).exclude(status="sent")
    wait_for(lambda: not unsent.exists(), "every SMS to be sent")
    second.send_signal(signal.SIGTERM)
    second.wait(timeout=120)
    calls = sends(worker.gateway, keys)
    assert set(calls) == keys
    assert len(calls) - len(keys) <= 1  # each send recorded before the next: one in flight
    repeated = [key for key in keys if calls.count(key) > 1]
    if repeated:  # the one sent twice carried the same key both times
        assert Delivery.objects.get(pk=int(repeated[0].rsplit("-", 1)[1])).attempts == 2
