"""The HTTP batch intake: authenticated per sensor, idempotent, every bad input a 4xx."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def post(client, body, key=None):
    headers = {"X-Sensor-Key": key} if key is not None else {}
    return client.post("/api/v1/warning/readings", json.dumps(body),
                       content_type="application/json", headers=headers)


def batch(start, *values):
    return {"sensor": "S-DISP-1", "readings": [
        {"t": (start + timedelta(minutes=i)).isoformat(), "v": v} for i, v in enumerate(values)]}


def test_a_sensor_posts_its_readings_and_a_retry_changes_nothing(client, slope):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    key = slope.keys["S-DISP-1"]
    first = post(client, batch(start, 1, 2, 3), key)
    assert first.status_code == 200, first.content
    assert first.json()["stored"] == 3
    again = post(client, batch(start, 1, 2, 3), key)
    assert again.json()["stored"] == 0 and again.json()["duplicates"] == 3


@pytest.mark.parametrize("key", [None, "", "zs_wrong"])
def test_a_missing_or_wrong_key_is_refused(client, slope, key):
    start = timezone.now() - timedelta(hours=1)
    response = post(client, batch(start, 1), key)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_an_unknown_sensor_gets_the_same_answer_as_a_wrong_key(client, slope):
    body = batch(timezone.now() - timedelta(hours=1), 1)
    body["sensor"] = "NO-SUCH"
    assert post(client, body, slope.keys["S-DISP-1"]).status_code == 401


@pytest.mark.parametrize("body", [
    {"sensor": "S-DISP-1"},
    {"sensor": "S-DISP-1", "readings": [{"t": "2026-01-01T00:00:00+08:00"}]},
    {"sensor": "S-DISP-1", "readings": [{"t": "2026-01-01T00:00:00+08:00", "v": "high"}]},
    {"sensor": "S-DISP-1", "readings": "many"},
    {"sensor": "S-DISP-1", "readings": [{"t": "2026-01-01T00:00:00+08:00", "v": True}]},
    {"sensor": "S-DISP-1", "readings": [{"t": "2026-01-01T00:00:00+08:00", "v": "12"}]},
])
def test_malformed_batches_are_422_naming_the_field(client, slope, body):
    response = post(client, body, slope.keys["S-DISP-1"])
    assert response.status_code == 422, response.content
    assert response.json()["errors"]


def test_bad_readings_in_a_good_batch_are_reported_not_stored(client, slope):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    body = batch(start, 1)
    body["readings"].append({"t": (start + timedelta(days=2)).isoformat(), "v": 1})
    body["readings"].append({"t": "last tuesday", "v": 1})
    response = post(client, body, slope.keys["S-DISP-1"])
    assert response.status_code == 200
    assert response.json()["stored"] == 1
    assert response.json()["rejected"] == {"time is in the future": 1,
                                           "time is not ISO 8601 with an offset, nor epoch seconds": 1}
