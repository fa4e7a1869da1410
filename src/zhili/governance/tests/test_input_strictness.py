"""Intake refuses what it would otherwise guess at: a reused Idempotency-Key with another
body, booleans for coordinates, text that cannot be stored."""

from __future__ import annotations

import pytest

from zhili.governance.models import Case
from zhili.governance.tests.test_api import BASE, report_body
from zhili.governance.tests.test_open311 import assert_error, good_form, post


@pytest.fixture
def auth(bearer):
    def headers(user, **extra):
        return {**bearer(user), **extra}

    return headers


def test_a_key_reused_with_another_body_is_422_and_writes_nothing(api, auth, categories, grid,
                                                                  resident):
    headers = auth(resident, **{"Idempotency-Key": "offline-42"})
    first = api.post(f"{BASE}/cases", report_body(grid), headers=headers)
    assert first.status_code == 201, first.content
    before = Case.objects.count()
    other = api.post(f"{BASE}/cases", report_body(grid, description="另一件事"), headers=headers)
    assert other.status_code == 422, other.content
    assert other["Content-Type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency-key-reused"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Case.objects.count() == before
    # The true retry still answers with the first case.
    again = api.post(f"{BASE}/cases", report_body(grid), headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_the_same_report_as_a_form_is_the_same_request(client, api, auth, categories, grid,
                                                       resident):
    headers = auth(resident, **{"Idempotency-Key": "offline-43"})
    first = api.post(f"{BASE}/cases", report_body(grid), headers=headers)
    assert first.status_code == 201
    form = {k: str(v) for k, v in report_body(grid).items()}
    again = client.post("/api/v1/governance/cases", form, headers=headers)  # multipart
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_open311_refuses_a_reused_key_with_another_body(client, categories, grid):
    from zhili.governance.open311.keys import open311_key_create

    key = open311_key_create(actor=None, name="city app")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert post(client, "json", good_form(key, grid), **{"Idempotency-Key": "k-1"}).status_code == 200
    before = Case.objects.count()
    response = post(client, "json", good_form(key, grid, description="别的事"),
                    **{"Idempotency-Key": "k-1"})
    assert_error(response, "json", 400, "Idempotency-Key")
    assert Case.objects.count() == before


@pytest.mark.parametrize("field", ["lon", "lat"])
def test_a_boolean_is_not_a_coordinate(api, auth, categories, grid, resident, field):
    response = api.post(f"{BASE}/cases", report_body(grid, **{field: True}),
                        headers=auth(resident))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    response = api.post("/geo/locate", {"points": [{"lon": True, "lat": 29.5}]},
                        headers=auth(resident))
    assert response.status_code == 422


@pytest.mark.parametrize("text", ["\ud800", "a\x00b"])
def test_unstorable_text_in_a_dispute_is_422_naming_the_field(api, auth, categories, grid,
                                                              street_operator, text):
    body = {"category": "dispute-neighbour", "description": text, "lon": grid.centre_lon,
            "lat": grid.centre_lat, "parties": []}
    response = api.post(f"{BASE}/disputes", body, headers=auth(street_operator))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "description"
