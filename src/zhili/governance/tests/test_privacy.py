"""Who reported a case and how to reach them.

- The contact phone is masked for staff; those who handle the case reveal it
  for a purpose, audited (none / allowed / another area).
- An anonymous report names nobody: not in the audit log, not in the
  timeline, not in the admin. Only an auditor may read the link, for a
  purpose, itself audited.
"""

import json

import pytest
from django.urls import reverse

from zhili.audit.models import AuditEntry

G = "/governance"
PHONE = "13912345678"
MASKED = "139****5678"
PURPOSE = "call back about the pothole"


@pytest.fixture
def case(report):
    return report(contact_name="王先生", contact_phone=PHONE)


@pytest.fixture
def anonymous_case(report, resident):
    return report(actor=resident, anonymous=True, contact_phone=PHONE)


def reveals(action="case.contact_reveal"):
    return AuditEntry.objects.filter(action=action)


# --- the contact phone -----------------------------------------------------------------------

def test_staff_see_the_phone_masked_and_the_read_is_not_a_reveal(api, bearer, grid_worker,
                                                                 street_operator, case):
    for user in (grid_worker, street_operator):
        body = api.get(f"{G}/cases/{case.pk}", headers=bearer(user)).json()
        assert body["contact_phone"] == MASKED
        assert PHONE not in json.dumps(body)
    assert not reveals().exists()


def test_the_reporter_sees_their_own_phone(api, bearer, resident, case):
    body = api.get(f"{G}/cases/{case.pk}", headers=bearer(resident)).json()
    assert body["contact_phone"] == PHONE


def test_reveal_contact_three_ways(api, bearer, grid_worker, street_operator, city_admin,
                                   other_street_operator, case):
    url = f"{G}/cases/{case.pk}/reveal-contact"
    assert api.post(url, {"purpose": PURPOSE}).status_code == 401
    # Allowed: those who handle the case (its grid's worker, its street's centre).
    for user in (grid_worker, street_operator):
        response = api.post(url, {"purpose": PURPOSE}, headers=bearer(user))
        assert response.status_code == 200, response.content
        assert response.json()["contact_phone"] == PHONE
        assert response["Cache-Control"] == "no-store"
    entries = reveals().order_by("id")
    assert [e.actor_label for e in entries] == [grid_worker.username, street_operator.username]
    assert {e.purpose for e in entries} == {PURPOSE}
    assert entries[0].object_id == str(case.pk) and entries[0].area_path == case.area_path
    # None: a city administrator may view cases but does not handle them.
    response = api.post(url, {"purpose": PURPOSE}, headers=bearer(city_admin))
    assert response.status_code == 403 and response.json()["code"] == "permission-denied"
    # Another area: the case is not there for them at all.
    assert api.post(url, {"purpose": PURPOSE},
                    headers=bearer(other_street_operator)).status_code == 404
    assert reveals().count() == 2


def test_reveal_contact_needs_a_purpose(api, bearer, grid_worker, case):
    response = api.post(f"{G}/cases/{case.pk}/reveal-contact", {"purpose": "x"},
                        headers=bearer(grid_worker))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "purpose"
    assert not reveals().exists()


def test_an_anonymous_case_has_no_contact_to_reveal(api, bearer, street_operator,
                                                    anonymous_case):
    response = api.post(f"{G}/cases/{anonymous_case.pk}/reveal-contact", {"purpose": PURPOSE},
                        headers=bearer(street_operator))
    assert response.status_code == 403
    body = api.get(f"{G}/cases/{anonymous_case.pk}", headers=bearer(street_operator)).json()
    assert body["contact_phone"] == "" and body["reporter"] is None


def test_the_case_page_masks_and_reveals_for_a_purpose(client, grid_worker, city_admin, case):
    client.force_login(grid_worker)
    page = client.get(reverse("governance:case", args=[case.pk])).content.decode()
    assert MASKED in page and PHONE not in page and 'id="contact-reveal-form"' in page
    url = reverse("governance:case_contact", args=[case.pk])
    refused = client.post(url, {"purpose": ""})
    assert refused.status_code == 422 and PHONE not in refused.content.decode()
    shown = client.post(url, {"purpose": PURPOSE})
    assert shown.status_code == 200 and f'href="tel:{PHONE}"' in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    assert reveals().get().actor == grid_worker
    # Staff who do not handle cases see the mask and no form; posting is 403.
    client.force_login(city_admin)
    page = client.get(reverse("governance:case", args=[case.pk])).content.decode()
    assert MASKED in page and 'id="contact-reveal-form"' not in page
    assert client.post(url, {"purpose": PURPOSE}).status_code == 403


# --- anonymous reports -----------------------------------------------------------------------

def test_an_anonymous_report_is_audited_without_its_reporter(anonymous_case, resident):
    entry = AuditEntry.objects.get(action="case.report", object_id=str(anonymous_case.pk))
    assert entry.actor_id is None and entry.actor_label == "anonymous"
    assert entry.client_ip is None
    assert resident.username not in json.dumps(entry.detail)
    assert entry.detail["anonymous"] is True
    # Nothing else in the log ties the resident to this case.
    assert not AuditEntry.objects.filter(actor=resident, object_id=str(anonymous_case.pk),
                                         object_type="governance.case").exists()


def test_a_named_report_is_audited_under_its_reporter(case, resident):
    entry = AuditEntry.objects.get(action="case.report", object_id=str(case.pk))
    assert entry.actor == resident


def test_the_reporter_rating_an_anonymous_case_stays_unnamed(anonymous_case, resident,
                                                             street_operator):
    from zhili.governance import services

    case = anonymous_case
    case = services.case_accept(actor=street_operator, case=case, version=case.version)
    case = services.case_resolve(actor=street_operator, case=case, version=case.version,
                                 note="filled")
    services.case_rate(actor=resident, case=case, rating=5)
    entry = AuditEntry.objects.get(action="case.rate", object_id=str(case.pk))
    assert entry.actor_id is None and entry.actor_label == "anonymous"


def test_staff_timelines_name_no_anonymous_reporter(api, bearer, street_operator, resident,
                                                    anonymous_case):
    body = api.get(f"{G}/cases/{anonymous_case.pk}", headers=bearer(street_operator)).json()
    reported = [e for e in body["timeline"] if e["kind"] == "reported"]
    assert reported[0]["actor"] == "anonymous"
    assert resident.username not in json.dumps(body)
    assert (resident.display_name or resident.username) not in json.dumps(body["timeline"])
    # The reporter still sees their own case as theirs.
    mine = api.get(f"{G}/cases/{anonymous_case.pk}", headers=bearer(resident)).json()
    assert [e for e in mine["timeline"] if e["kind"] == "reported"][0]["actor"] != "anonymous"


def test_the_admin_shows_no_reporter_and_refuses_filters_on_it(client, city_admin, resident,
                                                               anonymous_case, case):
    city_admin.is_staff = city_admin.is_superuser = True
    city_admin.save()
    client.force_login(city_admin)
    for lookup, value in (("reporter", resident.pk), ("reporter__username", resident.username),
                          ("contact_phone", PHONE), ("contact_phone__startswith", "139")):
        assert client.get("/admin/governance/case/", {lookup: value}).status_code == 400
    page = client.get(f"/admin/governance/case/{anonymous_case.pk}/change/").content.decode()
    assert PHONE not in page and resident.username not in page


def test_reveal_reporter_three_ways(api, bearer, city_admin, street_operator, resident,
                                    anonymous_case):
    url = f"{G}/cases/{anonymous_case.pk}/reveal-reporter"
    # Staff who handle the case have no audit right: 403.
    assert api.post(url, {"purpose": PURPOSE}, headers=bearer(street_operator)).status_code == 403
    assert api.post(url, {"purpose": ""}, headers=bearer(city_admin)).status_code == 422
    response = api.post(url, {"purpose": "complaint of a false report, file 12"},
                        headers=bearer(city_admin))
    assert response.status_code == 200, response.content
    assert response.json()["reporter"] == resident.username
    assert response["Cache-Control"] == "no-store"
    entry = reveals("case.reporter_reveal").get()
    assert entry.actor == city_admin and entry.purpose == "complaint of a false report, file 12"
    assert api.post(f"{G}/cases/999999999/reveal-reporter", {"purpose": PURPOSE},
                    headers=bearer(city_admin)).status_code == 404


def test_reveal_reporter_outside_the_auditors_area_is_404(api, bearer, anonymous_case,
                                                          other_street, db):
    from zhili.accounts.services import role_assign, user_create

    auditor = user_create(username="auditor2", password=None)
    role_assign(user=auditor, role="city_admin", area=other_street)
    response = api.post(f"{G}/cases/{anonymous_case.pk}/reveal-reporter", {"purpose": PURPOSE},
                        headers=bearer(auditor))
    assert response.status_code == 404
    assert not reveals("case.reporter_reveal").exists()
