"""/api/v1/audit: who may search the log, what they see, and the chain check.

Permission rule (also in docs/security.md): no audit.view anywhere → 403;
audit.view on an area → that area's entries; an entry outside it → 404, as
for a missing one; entries with no area → only for readers of the whole city.
"""

import pytest

from zhili.audit.models import AuditEntry, AuditSequence
from zhili.audit.services import audit_record, audit_sequence_pending, unsequenced_entries


@pytest.fixture
def entries(db, city_admin, grid, other_grid):
    return {
        "grid": audit_record(actor=city_admin, action="person.reveal", area_path=grid.path,
                             object_type="registry.person", object_id="17",
                             purpose="home visit"),
        "other": audit_record(actor=city_admin, action="person.reveal", area_path=other_grid.path,
                              object_type="registry.person", object_id="18",
                              purpose="flood check"),
        "no_area": audit_record(actor=city_admin, action="token.create", purpose=""),
    }


def ids(response):
    return {item["id"] for item in response.json()["items"]}


# GET /entries ------------------------------------------------------------------------------

def test_entries_anonymous_is_401(api, entries):
    response = api.get("/audit/entries")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_entries_without_audit_view_is_403(api, bearer, street_operator, entries):
    response = api.get("/audit/entries", headers=bearer(street_operator))
    assert response.status_code == 403
    assert response.json()["code"] == "permission-denied"


def test_entries_city_admin_sees_everything(api, bearer, city_admin, entries):
    response = api.get("/audit/entries", headers=bearer(city_admin), page_size=500)
    assert response.status_code == 200
    assert {e.pk for e in entries.values()} <= ids(response)
    assert response.json()["count"] == AuditEntry.objects.count()


def test_entries_admin_of_another_area_sees_only_theirs(api, bearer, street_admin, entries):
    response = api.get("/audit/entries", headers=bearer(street_admin), page_size=500)
    assert response.status_code == 200
    seen = ids(response)
    assert entries["other"].pk in seen
    assert entries["grid"].pk not in seen
    assert entries["no_area"].pk not in seen  # no area: only for the whole city's readers
    assert all(item["area_path"].startswith("50/500103/500103002/")
               for item in response.json()["items"])


def test_entries_filters(api, bearer, city_admin, entries):
    headers = bearer(city_admin)

    def search(**params):
        return ids(api.get("/audit/entries", headers=headers, page_size=500, **params))

    assert search(action="person.", purpose="FLOOD") == {entries["other"].pk}
    assert search(object_type="registry.person", object_id="17") == {entries["grid"].pk}
    assert search(request_id=entries["grid"].request_id) >= {entries["grid"].pk}
    assert entries["no_area"].pk in search(actor="admin", action="token.create")
    assert search(actor="nobody") == set()
    assert entries["grid"].pk in search(date_from="2000-01-01", date_to="2999-12-31")
    assert search(date_to="2000-01-01") == set()


def test_entries_bad_filter_is_422_naming_the_field(api, bearer, city_admin):
    response = api.get("/audit/entries", headers=bearer(city_admin), date_from="last tuesday")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["date_from"]
    response = api.get("/audit/entries", headers=bearer(city_admin), page_size=100000)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "page_size"


def test_entries_pagination(api, bearer, city_admin, entries):
    headers = bearer(city_admin)
    first = api.get("/audit/entries", headers=headers, page_size=2).json()
    second = api.get("/audit/entries", headers=headers, page_size=2, page=2).json()
    assert first["count"] == second["count"] >= 3
    assert len(first["items"]) == len(second["items"]) == 2
    assert first["items"][0]["id"] > first["items"][1]["id"] > second["items"][0]["id"]


def test_entries_query_count_is_pinned(api, bearer, city_admin, entries,
                                       django_assert_max_num_queries):
    headers = bearer(city_admin)
    # token lookup, last-used stamp, role assignments, roots, count, page
    with django_assert_max_num_queries(6):
        response = api.get("/audit/entries", headers=headers, page_size=200)
    assert response.status_code == 200


# GET /entries/{id} -------------------------------------------------------------------------

def test_entry_anonymous_is_401(api, entries):
    assert api.get(f"/audit/entries/{entries['grid'].pk}").status_code == 401


def test_entry_without_audit_view_is_403(api, bearer, street_operator, entries):
    response = api.get(f"/audit/entries/{entries['grid'].pk}", headers=bearer(street_operator))
    assert response.status_code == 403


def test_entry_city_admin(api, bearer, city_admin, entries):
    response = api.get(f"/audit/entries/{entries['grid'].pk}", headers=bearer(city_admin))
    assert response.status_code == 200
    body = response.json()
    assert body["actor"] == "admin" and body["purpose"] == "home visit"
    assert body["entry_hash"] == entries["grid"].entry_hash


def test_entry_of_another_area_is_404_like_a_missing_one(api, bearer, street_admin, entries):
    headers = bearer(street_admin)
    assert api.get(f"/audit/entries/{entries['other'].pk}", headers=headers).status_code == 200
    outside = api.get(f"/audit/entries/{entries['grid'].pk}", headers=headers)
    missing = api.get("/audit/entries/999999999", headers=headers)
    assert outside.status_code == missing.status_code == 404
    assert outside.json()["code"] == missing.json()["code"] == "not-found"


@pytest.mark.parametrize("bad", ["abc", "0", "99999999999999999999999"])
def test_entry_bad_id_is_422(api, bearer, city_admin, bad):
    response = api.get(f"/audit/entries/{bad}", headers=bearer(city_admin))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "entry_id"


# GET /verify -------------------------------------------------------------------------------

def test_verify_anonymous_is_401(db, api):
    assert api.get("/audit/verify").status_code == 401


def test_verify_without_audit_view_is_403(api, bearer, street_operator):
    assert api.get("/audit/verify", headers=bearer(street_operator)).status_code == 403


def test_verify_admin_of_one_street_is_403(api, bearer, street_admin):
    # Checking the chain reads every entry; a street's administrator may not.
    assert api.get("/audit/verify", headers=bearer(street_admin)).status_code == 403


def test_verify_city_admin(api, bearer, city_admin, entries, tamper):
    headers = bearer(city_admin)
    audit_sequence_pending(full=True)
    fresh = audit_record(actor=None, action="test.fresh")
    body = api.get("/audit/verify", headers=headers).json()
    assert body == {"entries": AuditSequence.objects.count(), "ok": True, "problems": [],
                    "unsequenced": unsequenced_entries().count()}
    assert body["unsequenced"] >= 1 and not AuditSequence.objects.filter(entry=fresh).exists()
    tamper("UPDATE audit_auditentry SET purpose = 'x' WHERE id = %s", [entries["grid"].pk])
    body = api.get("/audit/verify", headers=headers).json()
    assert body["ok"] is False
    seq = AuditSequence.objects.get(entry=entries["grid"]).seq
    assert body["problems"] == [f"entry {entries['grid'].pk} (position {seq}): its content "
                                "does not match its hash (edited)"]


def test_session_works_for_reads(client, city_admin, entries):
    client.force_login(city_admin)
    assert client.get("/api/v1/audit/entries").status_code == 200
