"""Open311 input the spec's 400 must refuse rather than cut, guess at or fail on."""

from __future__ import annotations

import pytest

from zhili.governance.models import Case
from zhili.governance.tests.test_open311 import BASE, assert_error, good_form, post


@pytest.fixture(autouse=True)
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def key(db):
    from zhili.governance.open311.keys import open311_key_create

    return open311_key_create(actor=None, name="city app")


@pytest.mark.parametrize("field, value", [
    ("phone", "1" * 300),
    ("first_name", "x" * 1000),
    ("last_name", "张" * 1000),
    ("email", "a" * 300 + "@example.cn"),
])
def test_an_over_long_contact_is_refused_not_cut(client, categories, grid, key, field, value):
    before = Case.objects.count()
    assert_error(post(client, "json", good_form(key, grid, **{field: value})), "json", 400)
    assert Case.objects.count() == before


@pytest.mark.parametrize("value", ["a\x00b", "\x00"])
def test_unstorable_characters_are_a_spec_400(client, categories, grid, key, value):
    # (A lone surrogate cannot arrive in a form: Django decodes invalid UTF-8 as U+FFFD.)
    before = Case.objects.count()
    assert_error(post(client, "json", good_form(key, grid, description=value)), "json", 400,
                 "description")
    assert_error(client.get(f"{BASE}/requests.json", {"service_code": value}), "json", 400,
                 "service_code")
    assert Case.objects.count() == before


def test_a_multipart_body_without_boundary_is_a_spec_400(client, categories, key):
    response = client.post(f"{BASE}/requests.json", b"--x\r\n", content_type="multipart/form-data")
    assert_error(response, "json", 400)


def test_more_ids_than_the_cap_is_a_400_not_an_empty_list(client, categories):
    ids = ",".join(f"C{n:06d}" for n in range(1001))
    assert_error(client.get(f"{BASE}/requests.json", {"service_request_id": ids}), "json", 400,
                 "service_request_id")


@pytest.mark.parametrize("params", [
    {"start_date": "0001-01-01"},
    {"end_date": "0001-01-01"},
    {"start_date": "9999-12-31", "end_date": "9999-12-31"},
    {"start_date": "0001-01-01T00:00:00+08:00"},
])
def test_dates_at_the_ends_of_the_calendar_name_the_parameter(client, categories, params):
    response = client.get(f"{BASE}/requests.json", params)
    assert_error(response, "json", 400, next(iter(params)))
