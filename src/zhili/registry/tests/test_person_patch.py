"""A PATCH that changes nothing writes nothing: no row, no empty audit entry."""

from __future__ import annotations

import json

import pytest

from zhili.audit.models import AuditEntry
from zhili.registry.tests.test_api import BASE


@pytest.fixture
def patch(client, bearer, street_registrar, person):
    def send(body):
        return client.patch(f"/api/v1{BASE}/persons/{person.pk}", json.dumps(body),
                            content_type="application/json", headers=bearer(street_registrar))

    return send


def updates(person) -> int:
    return AuditEntry.objects.filter(action="person.update", object_id=str(person.pk)).count()


def test_nulls_for_fields_already_empty_write_no_audit_entry(patch, person):
    person.address, person.household_no = "", ""
    person.save(update_fields=["address", "household_no"])
    before, stamp = updates(person), person.updated_at
    response = patch({"address": None, "household_no": None})
    assert response.status_code == 200
    person.refresh_from_db()
    assert updates(person) == before and person.updated_at == stamp


@pytest.mark.parametrize("body", [{}, [None, None], None])
def test_a_patch_naming_no_field_is_422(patch, person, body):
    before = updates(person)
    response = patch(body)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert updates(person) == before


def test_a_real_change_is_still_audited_with_what_changed(patch, person):
    before = updates(person)
    assert patch({"address": "解放碑街道 8 号"}).status_code == 200
    assert updates(person) == before + 1
    entry = AuditEntry.objects.filter(action="person.update").latest("pk")
    assert entry.detail["changed"] == ["address"]
