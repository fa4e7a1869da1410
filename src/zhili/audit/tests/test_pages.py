"""/audit/ (search page) and the read-only admin."""

import pytest

from zhili.accounts.models import User
from zhili.audit.models import AuditEntry
from zhili.audit.services import audit_record


@pytest.fixture
def entries(db, city_admin, grid, other_grid):
    return [
        audit_record(actor=city_admin, action="person.reveal", area_path=grid.path,
                     purpose="home visit"),
        audit_record(actor=city_admin, action="person.reveal", area_path=other_grid.path,
                     purpose="flood check"),
    ]


def test_page_anonymous_is_sent_to_login(db, client):
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/audit/")


def test_page_without_audit_view_is_403(client, street_operator):
    client.force_login(street_operator)
    assert client.get("/audit/").status_code == 403


def test_page_city_admin_searches(client, city_admin, entries):
    client.force_login(city_admin)
    response = client.get("/audit/", {"action": "person.", "purpose": "flood"})
    assert response.status_code == 200
    page = response.context["page"]
    assert [e.pk for e in page] == [entries[1].pk]
    html = response.content.decode()
    assert f'data-entry="{entries[1].pk}"' in html and "flood check" in html
    assert 'name="viewport"' in html  # the phone layout


def test_page_admin_of_another_area_sees_only_theirs(client, street_admin, entries):
    client.force_login(street_admin)
    response = client.get("/audit/")
    assert response.status_code == 200
    shown = {e.pk for e in response.context["page"]}
    assert entries[1].pk in shown and entries[0].pk not in shown


def test_page_paginates(client, city_admin, entries):
    for i in range(60):
        audit_record(actor=None, action="test.bulk", detail={"i": i})
    client.force_login(city_admin)
    first = client.get("/audit/", {"action": "test.bulk"})
    assert len(first.context["page"].object_list) == 50
    assert 'rel="next"' in first.content.decode()
    second = client.get("/audit/", {"action": "test.bulk", "page": 2})
    assert len(second.context["page"].object_list) == 10
    assert client.get("/audit/", {"page": "x"}).status_code == 200


def test_page_bad_input_is_explained_not_500(client, city_admin, entries):
    client.force_login(city_admin)
    response = client.get("/audit/", {"date_from": "2026-13-45", "date_to": "2026-01-01"})
    assert response.status_code == 200
    assert response.context["page"] is None
    assert response.context["form"].errors["date_from"]


def test_audit_menu_item_only_for_readers(client, city_admin, street_operator):
    client.force_login(city_admin)
    assert 'data-nav="audit:entry_list"' in client.get("/").content.decode()
    client.force_login(street_operator)
    assert 'data-nav="audit:entry_list"' not in client.get("/").content.decode()


# The admin ---------------------------------------------------------------------------------

@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", password="x" * 16)


def test_admin_lists_entries_but_cannot_change_them(client, superuser, entries):
    client.force_login(superuser)
    entry = entries[0]
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/change/",
                       {"purpose": "forged"}).status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    response = client.post("/admin/audit/auditentry/",
                           {"action": "delete_selected", "_selected_action": [entry.pk]})
    assert response.status_code in (200, 302)
    assert AuditEntry.objects.filter(pk=entry.pk, purpose="home visit").exists()


def test_admin_is_closed_to_staff_without_audit_view(client, street_operator):
    street_operator.is_staff = True
    street_operator.save(update_fields=["is_staff"])
    client.force_login(street_operator)
    assert client.get("/admin/audit/auditentry/").status_code == 403
