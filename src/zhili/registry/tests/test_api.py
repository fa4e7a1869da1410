"""/api/v1/registry: for every endpoint, anonymous (401), own area (2xx), another area
(404), and a role without the right (403 for acts on visible objects and for lists)."""

import pytest

from zhili.audit.models import AuditEntry
from zhili.registry.models import Person
from zhili.registry.tests.conftest import new_credit_code, new_id_number

BASE = "/registry"


def problem(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    if code:
        assert body["code"] == code
    return body


# --- persons ---------------------------------------------------------------------------------

def test_person_list_three_ways(api, bearer, grid_worker, other_grid_worker, resident, grid):
    problem(api.get(f"{BASE}/persons"), 401, "not-authenticated")
    mine = api.get(f"{BASE}/persons", headers=bearer(grid_worker)).json()
    assert mine["count"] > 0
    assert {p["grid"]["code"] for p in mine["items"]} == {grid.code}
    theirs = api.get(f"{BASE}/persons", headers=bearer(other_grid_worker), area=grid.code).json()
    assert theirs["count"] == 0
    problem(api.get(f"{BASE}/persons", headers=bearer(resident)), 403, "permission-denied")


def test_person_list_is_masked_and_filters(api, bearer, grid_worker, person):
    headers = bearer(grid_worker)
    body = api.post(f"{BASE}/persons/lookup", {"q": person.id_number,
                    "purpose": "resident at the counter"}, headers=headers).json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id_number"] == person.id_number[:6] + "*" * 8 + person.id_number[-4:]
    assert item["phone"] == "138****5678" and item["name"] == "测*·张**"
    assert item["address"] == "重庆市渝中区解放碑街道****" and item["masked"] is True
    assert api.post(f"{BASE}/persons/lookup", {"q": "测试·张三丰",
                    "purpose": "resident at the counter"}, headers=headers).json()["count"] >= 1
    assert api.get(f"{BASE}/persons", headers=headers,
                   household_no="T-0001").json()["count"] >= 1
    problem(api.get(f"{BASE}/persons", headers=headers, area="999"), 422)
    body = problem(api.get(f"{BASE}/persons", headers=headers, page_size=0), 422)
    assert body["errors"][0]["field"] == "page_size"


def test_listing_masked_persons_is_not_audited(api, bearer, grid_worker):
    headers = bearer(grid_worker)
    before = AuditEntry.objects.count()
    api.get(f"{BASE}/persons", headers=headers)
    assert AuditEntry.objects.filter(action__startswith="person.").count() == \
        AuditEntry.objects.filter(action__startswith="person.", id__lte=before).count()


def test_person_create_three_ways(api, bearer, city_admin, street_registrar, grid_worker,
                                  grid, other_grid):
    body = {"id_number": new_id_number(), "name": "测试·新人", "grid": grid.code,
            "phone": "13800000000"}
    problem(api.post(f"{BASE}/persons", body), 401)
    response = api.post(f"{BASE}/persons", body, headers=bearer(street_registrar))
    assert response.status_code == 201, response.content
    assert response.json()["id_number"].startswith(body["id_number"][:6] + "****")
    other = {**body, "id_number": new_id_number(), "grid": other_grid.code}
    problem(api.post(f"{BASE}/persons", other, headers=bearer(street_registrar)), 403)
    problem(api.post(f"{BASE}/persons", other, headers=bearer(grid_worker)), 403)
    assert api.post(f"{BASE}/persons", other, headers=bearer(city_admin)).status_code == 201
    problem(api.post(f"{BASE}/persons", body, headers=bearer(city_admin)), 409, "conflict")


def test_wrong_check_digit_is_422_naming_id_number(api, bearer, city_admin, grid):
    number = new_id_number()
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    response = api.post(f"{BASE}/persons", {"id_number": wrong, "name": "测试", "grid": grid.code},
                        headers=bearer(city_admin))
    body = problem(response, 422, "validation-failed")
    assert body["errors"][0]["field"] == "id_number"
    assert not Person.objects.filter(id_number=wrong).exists()


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "grid": "500103001001001"}, "id_number"),
    ({"id_number": 12345, "name": "x", "grid": "500103001001001"}, "id_number"),
    ({"id_number": "500103199001011234", "name": "x", "grid": "abc"}, "grid"),
    ({"id_number": "x" * 5000, "name": "x", "grid": "500103001001001"}, "id_number"),
])
def test_bad_person_input_is_422(api, bearer, city_admin, body, field):
    response = api.post(f"{BASE}/persons", body, headers=bearer(city_admin))
    assert field in [e["field"] for e in problem(response, 422)["errors"]]


def test_person_get_three_ways(api, bearer, grid_worker, other_grid_worker, resident, person):
    url = f"{BASE}/persons/{person.pk}"
    problem(api.get(url), 401)
    body = api.get(url, headers=bearer(grid_worker)).json()
    assert body["id"] == person.pk and body["id_number"] != person.id_number
    problem(api.get(url, headers=bearer(other_grid_worker)), 404, "not-found")
    problem(api.get(url, headers=bearer(resident)), 404)
    problem(api.get(f"{BASE}/persons/999999999", headers=bearer(grid_worker)), 404)
    problem(api.get(f"{BASE}/persons/99999999999999999999999", headers=bearer(grid_worker)), 404)


def test_person_update_three_ways(client, api, bearer, street_registrar, grid_worker,
                                  other_street_operator, person, other_grid):
    url = f"/api/v1{BASE}/persons/{person.pk}"

    def patch(body, user=None):
        return client.patch(url, body, content_type="application/json",
                            headers=bearer(user) if user else {})

    problem(patch({"phone": "13900000000"}), 401)
    response = patch({"phone": "13900000000"}, street_registrar)
    assert response.status_code == 200 and response.json()["phone"] == "139****0000"
    problem(patch({"grid": other_grid.code}, street_registrar), 403)
    person.refresh_from_db()
    assert person.grid_id != other_grid.pk
    problem(patch({"phone": "13900000001"}, grid_worker), 403)
    problem(patch({"phone": "13900000001"}, other_street_operator), 404)


# --- reveal ----------------------------------------------------------------------------------

def test_reveal_three_ways_and_audit(api, bearer, street_operator, other_street_operator,
                                     grid_worker, person):
    url = f"{BASE}/persons/{person.pk}/reveal"
    problem(api.post(url, {"purpose": "核实身份"}), 401)
    response = api.post(url, {"purpose": "核实低保申请人身份"}, headers=bearer(street_operator))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["id_number"] == person.id_number and body["phone"] == person.phone
    assert body["masked"] is False
    entry = AuditEntry.objects.get(action="person.reveal", object_id=str(person.pk))
    assert entry.purpose == "核实低保申请人身份" and entry.actor == street_operator
    assert entry.channel == "api" and entry.request_id == response["X-Request-ID"]
    problem(api.post(url, {"purpose": "核实身份"}, headers=bearer(other_street_operator)), 404)
    problem(api.post(url, {"purpose": "核实身份"}, headers=bearer(grid_worker)), 403)
    assert AuditEntry.objects.filter(action="person.reveal").count() == 1


@pytest.mark.parametrize("body", [{}, {"purpose": ""}, {"purpose": "ab"}, {"purpose": "x" * 300}])
def test_reveal_without_a_purpose_is_422(api, bearer, street_operator, person, body):
    response = api.post(f"{BASE}/persons/{person.pk}/reveal", body,
                        headers=bearer(street_operator))
    assert problem(response, 422)["errors"][0]["field"] == "purpose"
    assert not AuditEntry.objects.filter(action="person.reveal").exists()


# --- consents --------------------------------------------------------------------------------

def test_consent_list_three_ways(api, bearer, grid_worker, other_grid_worker, consent, person):
    url = f"{BASE}/persons/{person.pk}/consents"
    problem(api.get(url), 401)
    body = api.get(url, headers=bearer(grid_worker)).json()
    assert [c["id"] for c in body["items"]] == [consent.pk]
    assert body["items"][0]["active"] is True
    problem(api.get(url, headers=bearer(other_grid_worker)), 404)


def test_consent_grant_three_ways(api, bearer, city_admin, street_registrar, grid_worker,
                                  other_street_operator, person, other_person):
    body = {"purpose": "newborn-bundle", "purpose_text": "出生一件事",
            "data_item": "certificate:birth-medical-certificate"}
    url = f"{BASE}/persons/{person.pk}/consents"
    problem(api.post(url, body), 401)
    response = api.post(url, body, headers=bearer(street_registrar))
    assert response.status_code == 201 and response.json()["active"] is True
    problem(api.post(url, body, headers=bearer(city_admin)), 409)
    problem(api.post(url, body, headers=bearer(grid_worker)), 403)
    problem(api.post(url, body, headers=bearer(other_street_operator)), 404)
    other_url = f"{BASE}/persons/{other_person.pk}/consents"
    problem(api.post(other_url, body, headers=bearer(street_registrar)), 404)
    bad = problem(api.post(url, {**body, "data_item": "person.salary"},
                           headers=bearer(city_admin)), 422)
    assert bad["errors"][0]["field"] == "data_item"


def test_consent_revoke_three_ways(api, bearer, street_registrar, grid_worker,
                                   other_street_operator, consent):
    url = f"{BASE}/consents/{consent.pk}/revoke"
    problem(api.post(url), 401)
    problem(api.post(url, headers=bearer(other_street_operator)), 404)
    problem(api.post(url, headers=bearer(grid_worker)), 403)
    response = api.post(url, headers=bearer(street_registrar))
    assert response.status_code == 200 and response.json()["active"] is False
    problem(api.post(url, headers=bearer(street_registrar)), 409)


# --- organisations ---------------------------------------------------------------------------

def test_organisation_list_three_ways(api, bearer, grid_worker, other_grid_worker, resident,
                                      organisation, grid):
    url = f"{BASE}/organisations"
    problem(api.get(url), 401)
    body = api.get(url, headers=bearer(grid_worker)).json()
    assert organisation.pk in [o["id"] for o in body["items"]]
    assert {o["area"]["code"] for o in body["items"]} == {grid.code}
    item = next(o for o in body["items"] if o["id"] == organisation.pk)
    assert item["credit_code"] == organisation.credit_code[:8] + "*" * 8 + \
        organisation.credit_code[-2:]
    assert item["legal_representative"] == "测*·王*"
    theirs = api.get(url, headers=bearer(other_grid_worker)).json()
    assert organisation.pk not in [o["id"] for o in theirs["items"]]
    problem(api.get(url, headers=bearer(resident)), 403)


def test_organisation_create_three_ways(api, bearer, city_admin, street_registrar, grid_worker,
                                        grid, other_grid):
    body = {"credit_code": new_credit_code(), "name": "测试·新公司", "area": grid.code}
    url = f"{BASE}/organisations"
    problem(api.post(url, body), 401)
    assert api.post(url, body, headers=bearer(street_registrar)).status_code == 201
    other = {**body, "credit_code": new_credit_code(), "area": other_grid.code}
    problem(api.post(url, other, headers=bearer(street_registrar)), 403)
    problem(api.post(url, other, headers=bearer(grid_worker)), 403)
    problem(api.post(url, body, headers=bearer(city_admin)), 409)
    wrong = body["credit_code"][:17] + ("0" if body["credit_code"][17] != "0" else "1")
    bad = problem(api.post(url, {**body, "credit_code": wrong}, headers=bearer(city_admin)), 422)
    assert bad["errors"][0]["field"] == "credit_code"


def test_organisation_get_three_ways(api, bearer, grid_worker, other_grid_worker, organisation):
    url = f"{BASE}/organisations/{organisation.pk}"
    problem(api.get(url), 401)
    assert api.get(url, headers=bearer(grid_worker)).json()["name"] == organisation.name
    problem(api.get(url, headers=bearer(other_grid_worker)), 404)


# --- certificates ----------------------------------------------------------------------------

def test_certificate_list_three_ways(api, bearer, grid_worker, other_grid_worker, resident,
                                     household_register, person):
    url = f"{BASE}/certificates"
    problem(api.get(url), 401)
    body = api.get(url, headers=bearer(grid_worker), person=person.pk).json()
    assert [c["id"] for c in body["items"]] == [household_register.pk]
    item = body["items"][0]
    assert item["number"] != household_register.number and item["content"] == {}
    assert item["content_fields"] == ["household_no", "members"]
    assert item["holder"] == {"kind": "person", "id": person.pk, "name": "测*·张**"}
    assert api.get(url, headers=bearer(grid_worker), cert_type="business-licence",
                   person=person.pk).json()["count"] == 0
    assert api.get(url, headers=bearer(other_grid_worker), person=person.pk).json()["count"] == 0
    problem(api.get(url, headers=bearer(resident)), 403)
    problem(api.get(url, headers=bearer(grid_worker), cert_type="passport"), 422)


def test_business_licence_content_is_shown(api, bearer, city_admin, grid_worker, organisation):
    response = api.post(f"{BASE}/certificates", {
        "cert_type": "business-licence", "holder_organisation": organisation.pk,
        "content": {"business_scope": "餐饮服务"}}, headers=bearer(city_admin))
    assert response.status_code == 201, response.content
    body = api.get(f"{BASE}/certificates/{response.json()['id']}", headers=bearer(grid_worker))
    assert body.json()["content"] == {"business_scope": "餐饮服务"}
    assert body.json()["department"]["code"] == "market-regulation"


def test_certificate_issue_three_ways(api, bearer, police_officer, department_officer,
                                      grid_worker, person, other_person):
    url = f"{BASE}/certificates"
    body = {"cert_type": "household-register", "holder_person": person.pk,
            "issued_on": "2024-05-01", "content": {"members": 2}}
    problem(api.post(url, body), 401)
    response = api.post(url, body, headers=bearer(police_officer))
    assert response.status_code == 201, response.content
    assert response.json()["department"]["code"] == "public-security"
    problem(api.post(url, body, headers=bearer(department_officer)), 403)
    problem(api.post(url, body, headers=bearer(grid_worker)), 403)
    other = {**body, "holder_person": other_person.pk}
    bad = problem(api.post(url, other, headers=bearer(police_officer)), 422)
    assert bad["errors"][0]["field"] == "holder_person"
    both = problem(api.post(url, {**body, "holder_organisation": 1},
                            headers=bearer(police_officer)), 422)
    assert both["errors"][0]["field"] == "holder"
    dates = problem(api.post(url, {**body, "expires_on": "2020-01-01"},
                             headers=bearer(police_officer)), 422)
    assert dates["errors"][0]["field"] == "expires_on"


def test_certificate_get_three_ways(api, bearer, grid_worker, other_grid_worker,
                                    household_register):
    url = f"{BASE}/certificates/{household_register.pk}"
    problem(api.get(url), 401)
    assert api.get(url, headers=bearer(grid_worker)).json()["masked"] is True
    problem(api.get(url, headers=bearer(other_grid_worker)), 404)


def test_certificate_revoke_three_ways(api, bearer, police_officer, department_officer,
                                       other_street_operator, household_register):
    url = f"{BASE}/certificates/{household_register.pk}/revoke"
    problem(api.post(url, {"reason": "户口迁出"}), 401)
    problem(api.post(url, {"reason": "户口迁出"}, headers=bearer(other_street_operator)), 404)
    problem(api.post(url, {"reason": "户口迁出"}, headers=bearer(department_officer)), 403)
    problem(api.post(url, {}, headers=bearer(police_officer)), 422)
    response = api.post(url, {"reason": "户口迁出"}, headers=bearer(police_officer))
    assert response.status_code == 200 and response.json()["status"] == "revoked"


def test_certificate_reveal_three_ways(api, bearer, street_operator, other_street_operator,
                                       grid_worker, household_register):
    url = f"{BASE}/certificates/{household_register.pk}/reveal"
    problem(api.post(url, {"purpose": "办理出生一件事"}), 401)
    response = api.post(url, {"purpose": "办理出生一件事"}, headers=bearer(street_operator))
    assert response.status_code == 200
    assert response.json()["number"] == household_register.number
    assert response.json()["content"] == {"household_no": "T-0001", "members": 3}
    problem(api.post(url, {"purpose": "办理出生一件事"}, headers=bearer(grid_worker)), 403)
    problem(api.post(url, {"purpose": "办理出生一件事"},
                     headers=bearer(other_street_operator)), 404)
    assert AuditEntry.objects.filter(action="certificate.reveal").count() == 1


# --- query counts ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/persons", "/organisations", "/certificates"])
def test_list_query_count_does_not_grow_with_rows(api, bearer, district_operator, path,
                                                  django_assert_max_num_queries):
    headers = bearer(district_operator)
    api.get(f"{BASE}{path}", headers=headers)  # token's last_used_at is written once
    # token lookup, role assignments, COUNT, one SELECT (with joins) per page
    with django_assert_max_num_queries(4):
        body = api.get(f"{BASE}{path}", headers=headers, page_size=200).json()
    assert body["count"] > 20 and len(body["items"]) > 20


def test_consent_list_query_count(api, bearer, district_operator, consent, person,
                                  django_assert_max_num_queries):
    headers = bearer(district_operator)
    api.get(f"{BASE}/persons/{person.pk}/consents", headers=headers)
    with django_assert_max_num_queries(5):
        api.get(f"{BASE}/persons/{person.pk}/consents", headers=headers)


def test_openapi_lists_the_registry(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/persons", "/persons/{person_id}/reveal", "/organisations", "/certificates",
                 "/certificates/{certificate_id}/revoke", "/consents/{consent_id}/revoke"):
        assert f"/api/v1/registry{path}" in paths


@pytest.mark.parametrize("path, body", [
    ("/persons", {"id_number": "50010319900101123\x00", "name": "\x00", "grid": "\x00"}),
    ("/persons", {"id_number": ["a"], "name": {"x": 1}, "grid": 5}),
    ("/persons", "not an object"),
    ("/certificates", {"cert_type": "business-licence", "holder_organisation": 2**70}),
    ("/certificates", {"cert_type": "household-register", "holder_person": -1,
                       "issued_on": "0001-01-01", "expires_on": "9999-12-31"}),
    ("/certificates", {"cert_type": "x", "holder_person": 1, "content": {"a": [[[[[]]]]]} }),
    ("/organisations", {"credit_code": "９１３５０１００Ｍ０００１００Ｙ４３", "name": "x",
                        "area": "99999999999999999999"}),
])
def test_no_input_gives_a_500(api, bearer, city_admin, path, body):
    response = api.post(f"{BASE}{path}", body, headers=bearer(city_admin))
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"


def test_naive_consent_expiry_is_taken_as_local_time(api, bearer, city_admin, person):
    response = api.post(f"{BASE}/persons/{person.pk}/consents", {
        "purpose": "grid-visit", "purpose_text": "上门走访", "data_item": "person.phone",
        "expires_at": "2099-01-01T00:00:00"}, headers=bearer(city_admin))
    assert response.status_code == 201, response.content
    bad = api.post(f"{BASE}/persons/{person.pk}/consents", {
        "purpose": "grid-visit2", "purpose_text": "上门走访", "data_item": "person.phone",
        "expires_at": "0001-01-01T00:00:00"}, headers=bearer(city_admin))
    assert problem(bad, 422)["errors"][0]["field"] == "expires_at"
