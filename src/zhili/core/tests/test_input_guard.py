"""What no view can store is refused before any view runs (core/inputguard.py), the
same for every endpoint: problem+json naming the field under /api/, the 400 page elsewhere."""

from __future__ import annotations

import pytest
from django.test import Client

PROBLEM = "application/problem+json"


def problem(response, status: int, field: str):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["errors"][0]["field"] == field, body
    return body


@pytest.mark.parametrize("url, field", [
    ("/api/v1/governance/cases?tracking_no=%00", "tracking_no"),
    ("/api/v1/audit/entries?actor=a%00", "actor"),
    ("/api/v1/audit/entries?purpose=%00", "purpose"),
    ("/api/v1/audit/entries?object_id=%00", "object_id"),
    ("/api/v1/audit/entries?request_id=%00", "request_id"),
    ("/api/v1/geo/nodes?q=%00", "q"),
    ("/api/v1/accounts/users?q=%00", "q"),
    ("/api/v1/governance/cases/tracking/ZL%00", "path"),
])
def test_a_nul_anywhere_in_the_url_is_422_naming_it(client, bearer, city_admin, url, field):
    problem(client.get(url, headers=bearer(city_admin)), 422, field)


def test_a_nul_in_a_json_body_is_422_naming_the_field(api, bearer, resident):
    response = api.post("/bundles/newborn/notice", {"answers": {"a\x00": True}},
                        headers=bearer(resident))
    problem(response, 422, "answers.a\x00")


def test_a_lone_surrogate_in_json_is_422_naming_the_field(client, bearer, resident):
    response = client.post("/api/v1/governance/cases", '{"description": "\\ud800"}',
                           content_type="application/json", headers=bearer(resident))
    problem(response, 422, "description")


def test_json_nested_3000_deep_is_400(client, bearer, resident):
    response = client.post("/api/v1/governance/cases", "[" * 3000 + "]" * 3000,
                           content_type="application/json", headers=bearer(resident))
    assert problem(response, 400, "body")["code"] == "bad-request"


@pytest.mark.parametrize("url", ["/api/v1/governance/cases", "/api/v1/bundles/uploads"])
def test_multipart_without_a_boundary_is_400(client, bearer, resident, url):
    response = client.post(url, b"--x\r\n", content_type="multipart/form-data",
                           headers=bearer(resident))
    problem(response, 400, "body")


def test_a_text_plain_body_is_415_not_read_as_json(client, bearer, resident, grid):
    body = f'{{"category": "garbage", "description": "x", "lon": {grid.centre_lon}, ' \
           f'"lat": {grid.centre_lat}}}'
    response = client.post("/api/v1/governance/cases", body, content_type="text/plain",
                           headers=bearer(resident))
    assert problem(response, 415, "Content-Type")["code"] == "unsupported-media-type"


def test_a_form_sent_to_a_json_operation_is_415(client, bearer, resident):
    response = client.post("/api/v1/bundles/newborn/notice", {"answers": "x"},
                           headers=bearer(resident))  # multipart
    problem(response, 415, "Content-Type")


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_an_unknown_api_path_is_a_problem_404_even_with_csrf_checks(db, method):
    strict = Client(enforce_csrf_checks=True)
    response = getattr(strict, method)("/api/v1/no/such/thing")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_a_page_with_a_nul_is_the_400_page(client):
    response = client.get("/governance/?q=%00", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
