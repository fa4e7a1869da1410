"""The governance API: every endpoint with no permission, in its own area and from another
area; idempotent intake over HTTP; multipart photos; 4xx naming the field with nothing
written; 409 on stale versions and impossible transitions; pinned query counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from zhili.governance import services
from zhili.governance.models import Case, CaseEvent, DepartmentTask
from zhili.governance.tests.conftest import jpeg_bytes, upload

BASE = "/governance"


@pytest.fixture
def nobody(django_user_model):
    """Logged in, but holding no role anywhere and linked to no case."""
    return django_user_model.objects.create(username="nobody")


@pytest.fixture
def auth(bearer):
    cache = {}

    def headers(user, **extra):
        if user.pk not in cache:
            cache[user.pk] = bearer(user)
        return {**cache[user.pk], **extra}

    return headers


@pytest.fixture
def case(report):
    return report(category="road-damage", description="人行道塌陷", at=timezone.now())


def ids(response) -> set[int]:
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return {item.get("id") for item in items}


# -- reads: none / own / other ------------------------------------------------------------


def test_case_lists_three_ways(api, auth, case, street_operator, other_street_operator, nobody,
                               resident, django_assert_max_num_queries):
    headers = auth(street_operator)
    with django_assert_max_num_queries(6):
        own = api.get(f"{BASE}/cases", headers=headers, page_size=200)
    assert own.status_code == 200 and case.pk in ids(own)
    assert case.pk not in ids(api.get(f"{BASE}/cases", headers=auth(other_street_operator),
                                      page_size=200))
    assert api.get(f"{BASE}/cases", headers=auth(nobody)).json()["count"] == 0
    # The resident sees their own cases only.
    mine = api.get(f"{BASE}/cases", headers=auth(resident), page_size=500).json()
    assert case.pk in {i["id"] for i in mine["items"]}
    assert Case.objects.filter(pk__in=[i["id"] for i in mine["items"]]).exclude(
        reporter=resident).filter(duplicates__reporter=resident).count() == \
        Case.objects.filter(pk__in=[i["id"] for i in mine["items"]]).exclude(
            reporter=resident).count()
    assert api.get(f"{BASE}/cases").status_code == 401


def test_case_list_filters(api, auth, case, street_operator, street):
    h = auth(street_operator)
    assert case.pk in ids(api.get(f"{BASE}/cases", headers=h, status="reported",
                                  category="road-damage", board="livelihood_services",
                                  area=street.code, page_size=500))
    assert case.pk not in ids(api.get(f"{BASE}/cases", headers=h, status="closed",
                                      page_size=500))
    assert case.pk in ids(api.get(f"{BASE}/cases", headers=h, tracking_no=case.tracking_no))
    later = (case.created_at + timedelta(seconds=1)).isoformat()
    assert case.pk not in ids(api.get(f"{BASE}/cases", headers=h, created_from=later,
                                      page_size=500))
    for bad, field in [({"status": "lost"}, "status"), ({"area": "999"}, "area"),
                       ({"page_size": 100000}, "page_size"), ({"overdue": "maybe"}, "overdue")]:
        response = api.get(f"{BASE}/cases", headers=h, **bad)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == field


def test_case_detail_three_ways(api, auth, case, street_operator, other_street_operator,
                                nobody, resident, grid_worker, django_assert_max_num_queries):
    headers = auth(street_operator)
    with django_assert_max_num_queries(10):
        own = api.get(f"{BASE}/cases/{case.pk}", headers=headers)
    assert own.status_code == 200
    body = own.json()
    assert body["tracking_no"] == case.tracking_no and body["version"] == case.version
    assert [e["kind"] for e in body["timeline"]] == ["reported", "assigned"]
    assert "dispatch" in body["actions"] and "accept" in body["actions"]
    assert body["reporter"] and body["contact_phone"] == ""
    for user in (other_street_operator, nobody):
        response = api.get(f"{BASE}/cases/{case.pk}", headers=auth(user))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    assert api.get(f"{BASE}/cases/999999999", headers=auth(street_operator)).status_code == 404
    # The reporter, by tracking number.
    mine = api.get(f"{BASE}/cases/tracking/{case.tracking_no.lower()}", headers=auth(resident))
    assert mine.status_code == 200 and mine.json()["actions"] == []
    assert api.get(f"{BASE}/cases/tracking/{case.tracking_no}",
                   headers=auth(nobody)).status_code == 404


def test_anonymous_case_hides_the_reporter_from_staff(api, auth, report, street_operator,
                                                     resident):
    case = report(anonymous=True, contact_name="张三", contact_phone="13800000000")
    staff = api.get(f"{BASE}/cases/{case.pk}", headers=auth(street_operator)).json()
    assert staff["reporter"] is None and staff["contact_phone"] == ""
    assert "13800000000" not in json.dumps(staff)


def test_my_tasks_overdue_and_figures_three_ways(api, auth, case, grid_worker, other_grid_worker,
                                                 nobody, street_operator, other_street_operator,
                                                 django_assert_max_num_queries):
    assignee = case.assignee
    headers = auth(assignee)
    with django_assert_max_num_queries(6):
        mine = api.get(f"{BASE}/my-tasks", headers=headers)
    assert mine.status_code == 200 and case.pk in ids(mine)
    assert case.pk not in ids(api.get(f"{BASE}/my-tasks", headers=auth(other_grid_worker)))
    assert api.get(f"{BASE}/my-tasks", headers=auth(nobody)).json() == []
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    headers = auth(street_operator)
    with django_assert_max_num_queries(6):
        overdue = api.get(f"{BASE}/cases/overdue", headers=headers, page_size=500)
    assert case.pk in ids(overdue)
    assert case.pk not in ids(api.get(f"{BASE}/cases/overdue",
                                      headers=auth(other_street_operator), page_size=500))
    since = {"created_from": case.created_at.isoformat()}
    headers = auth(street_operator)
    with django_assert_max_num_queries(20):
        figures = api.get(f"{BASE}/figures", headers=headers, **since).json()
    assert figures["total"] >= 1 and figures["by_status"]["reported"] >= 1
    assert figures["by_board"]["livelihood_services"] >= 1
    assert api.get(f"{BASE}/figures", headers=auth(other_street_operator),
                   tracking_no=case.tracking_no).json()["total"] == 0
    assert api.get(f"{BASE}/figures", headers=auth(nobody)).json()["total"] == 0


def test_categories_are_public(api, categories, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = api.get(f"{BASE}/categories")
    assert response.status_code == 200
    body = response.json()
    assert len(body) >= 40 and {c["board"] for c in body} == {
        "party_building", "economic_development", "livelihood_services", "safety_rule_of_law"}
    road = next(c for c in body if c["code"] == "road-damage")
    assert road["lead_department"] == "transport" and road["attributes"][0]["code"] == "size"


# -- intake over HTTP ---------------------------------------------------------------------


def report_body(grid, **extra):
    return {"category": "garbage", "description": "垃圾堆了三天", "lon": grid.centre_lon,
            "lat": grid.centre_lat, "channel": "resident", **extra}


def test_post_case_is_idempotent(api, auth, categories, grid, resident, nobody):
    headers = auth(resident, **{"Idempotency-Key": "offline-7f3a"})
    first = api.post(f"{BASE}/cases", report_body(grid), headers=headers)
    assert first.status_code == 201, first.content
    again = api.post(f"{BASE}/cases", report_body(grid), headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    # No role needed to report; another user's same key is theirs alone.
    other = api.post(f"{BASE}/cases", report_body(grid, category="noise"),
                     headers=auth(nobody, **{"Idempotency-Key": "offline-7f3a"}))
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert api.post(f"{BASE}/cases", report_body(grid)).status_code == 401


def test_post_case_multipart_with_photos(client, auth, categories, grid, resident):
    form = {**report_body(grid, category="road-damage"), "attributes[size]": "large",
            "photos": [upload("a.jpg", jpeg_bytes(exif_gps=True)), upload("b.jpg")]}
    response = client.post("/api/v1/governance/cases", form, headers=auth(resident))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["attributes"] == {"size": "large"}
    photos = body["timeline"][0]["photos"]
    assert len(photos) == 2
    image = client.get(photos[0]["url"], headers=auth(resident))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert b"Exif" not in b"".join(image.streaming_content)


def test_photo_three_ways(client, auth, report, street_operator, other_street_operator, nobody):
    case = report(photos=[upload()])
    url = f"/api/v1/governance/photos/{case.photos.get().pk}"
    assert client.get(url, headers=auth(street_operator)).status_code == 200
    assert client.get(url, headers=auth(other_street_operator)).status_code == 404
    assert client.get(url, headers=auth(nobody)).status_code == 404


@pytest.mark.parametrize("change, field, status", [
    ({"category": "nope"}, "category", 422),
    ({"description": ""}, "description", 422),
    ({"description": "x" * 2001}, "description", 422),
    ({"lon": "far"}, "lon", 422),
    ({"lon": None}, "lon", 422),
    ({"crs": "bd09"}, "crs", 422),
    ({"channel": "system"}, "channel", 422),
    ({"attributes": "size"}, "attributes", 422),
    ({"lon": 116.39, "lat": 39.9}, None, 404),
])
def test_post_case_bad_input(api, auth, categories, grid, resident, change, field, status):
    before = Case.objects.count()
    body = {k: v for k, v in {**report_body(grid), **change}.items() if v is not None}
    response = api.post(f"{BASE}/cases", body, headers=auth(resident))
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    if field:
        assert response.json()["errors"][0]["field"] == field
    assert Case.objects.count() == before


def test_post_case_bad_photo_and_body(client, auth, categories, grid, resident):
    before = Case.objects.count()
    response = client.post("/api/v1/governance/cases",
                           {**report_body(grid), "photos": [upload("x.jpg", b"GIF89a nope")]},
                           headers=auth(resident))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "photos"
    response = client.post("/api/v1/governance/cases", "{not json", content_type="application/json",
                           headers=auth(resident))
    # Unparseable is 400 on every endpoint (core/inputguard.py); 422 is for wrong values.
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "body"
    assert Case.objects.count() == before


def test_patrol_report_three_ways(api, auth, categories, grid, grid_worker, other_grid_worker,
                                  nobody):
    body = report_body(grid, channel="patrol")
    assert api.post(f"{BASE}/cases", body, headers=auth(grid_worker)).status_code == 201
    for user in (other_grid_worker, nobody):
        response = api.post(f"{BASE}/cases", body, headers=auth(user))
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "lon"


# -- transitions: none / own / other ------------------------------------------------------


def to_state(case, steps, worker, operator):
    for step in steps:
        if step == "accept":
            case = services.case_accept(actor=worker, case=case, version=case.version)
        elif step == "arrive":
            case = services.case_arrive(actor=worker, case=case, version=case.version)
        elif step == "resolve":
            case = services.case_resolve(actor=worker, case=case, version=case.version, note="ok")
    return case


TRANSITIONS = [
    # action, path to reach the state, who acts in their own area, body
    ("accept", [], "worker", {"note": "收到"}),
    ("arrive", ["accept"], "worker", {"lon": 106.5129, "lat": 29.5390, "note": "到了"}),
    ("resolve", ["accept", "arrive"], "worker", {"note": "修好了"}),
    ("verify", ["accept", "resolve"], "operator", {"note": "回访"}),
    ("close", ["accept", "resolve"], "operator", {"outcome": "fixed"}),
    ("reopen", ["accept", "resolve"], "operator", {"reason": "复发"}),
    ("reject", [], "worker", {"reason": "不属实"}),
    ("escalate", [], "worker", {"reason": "超出能力"}),
    ("assign", [], "operator", {"assignee": "worker1"}),
    ("dispatch", ["accept"], "operator", {"lead": "transport", "cooperating": ["urban-management"],
                                          "instructions": "请修复", "due_hours": 8}),
    ("rate", ["accept", "resolve"], "reporter", {"rating": 5, "comment": "好"}),
]


@pytest.mark.parametrize("action, path, who, body", TRANSITIONS)
def test_transition_three_ways(api, auth, case, action, path, who, body, grid_worker,
                               street_operator, other_grid_worker, other_street_operator,
                               nobody, resident):
    case = to_state(case, path, grid_worker, street_operator)
    own = {"worker": grid_worker, "operator": street_operator, "reporter": resident}[who]
    other = other_street_operator if who != "worker" else other_grid_worker
    payload = {"version": case.version, **body}
    url = f"{BASE}/cases/{case.pk}/{action}"
    for outsider in (nobody, other):
        response = api.post(url, payload, headers=auth(outsider))
        assert response.status_code == 404, (outsider, response.content)
    events = CaseEvent.objects.filter(case=case).count()
    response = api.post(url, payload, headers=auth(own))
    assert response.status_code == 200, response.content
    assert response.json()["version"] > case.version
    assert CaseEvent.objects.filter(case=case).count() > events
    if action != "rate":
        # The same version again is stale now: 409, nothing written.
        events = CaseEvent.objects.filter(case=case).count()
        again = api.post(url, payload, headers=auth(own))
        assert again.status_code == 409 and again.json()["code"] == "conflict"
        assert CaseEvent.objects.filter(case=case).count() == events


def test_transition_errors(api, auth, case, grid_worker, resident):
    url = f"{BASE}/cases/{case.pk}"
    # Not allowed from the current state: 409 invalid-transition.
    response = api.post(f"{url}/verify", {"version": case.version},
                        headers=auth(grid_worker))
    assert response.status_code in (403, 409)
    response = api.post(f"{url}/arrive", {"version": case.version}, headers=auth(grid_worker))
    assert response.status_code == 409 and response.json()["code"] == "invalid-transition"
    # Missing version: 422 naming it.
    response = api.post(f"{url}/accept", {}, headers=auth(grid_worker))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "version"
    # The reporter may see but not accept: 403.
    assert api.post(f"{url}/accept", {"version": case.version},
                    headers=auth(resident)).status_code == 403
    response = api.post(f"{url}/dispatch", {"version": case.version, "lead": "nowhere"},
                        headers=auth(grid_worker))
    assert response.status_code in (403, 422)


def test_resolve_multipart_with_photos(client, auth, case, grid_worker):
    case = to_state(case, ["accept", "arrive"], grid_worker, None)
    response = client.post(f"/api/v1/governance/cases/{case.pk}/resolve",
                           {"version": case.version, "note": "已修复", "photos": [upload()]},
                           headers=auth(grid_worker))
    assert response.status_code == 200, response.content
    resolved = [e for e in response.json()["timeline"] if e["kind"] == "resolved"][0]
    assert len(resolved["photos"]) == 1


def test_duplicates_three_ways(api, auth, report, street_operator, other_street_operator,
                               nobody, grid):
    original = report(category="water-leak", attributes={"flow": "flow"})
    dup = report(category="water-leak", attributes={"flow": "flow"},
                 at=original.created_at + timedelta(hours=1))
    assert dup.duplicate_of == original
    for action in ("duplicate-confirm", "duplicate-split"):
        for outsider in (nobody, other_street_operator):
            assert api.post(f"{BASE}/cases/{dup.pk}/{action}", {},
                            headers=auth(outsider)).status_code == 404
    response = api.post(f"{BASE}/cases/{dup.pk}/duplicate-split", {"version": dup.version},
                        headers=auth(street_operator))
    assert response.status_code == 200 and response.json()["duplicate_of"] is None


# -- department tasks ---------------------------------------------------------------------


@pytest.fixture
def task(case, grid_worker, street_operator):
    case = services.case_accept(actor=grid_worker, case=case, version=case.version)
    services.case_dispatch_departments(actor=street_operator, case=case, version=case.version,
                                       lead="power")
    return DepartmentTask.objects.get(case=case)


@pytest.fixture
def other_power_officer(django_user_model, other_street):
    from zhili.accounts.models import Department
    from zhili.accounts.services import role_assign

    user = django_user_model.objects.create(username="power-street2")
    role_assign(user=user, role="department_officer", area=other_street,
                department=Department.objects.get(code="power"))
    return user


def test_inbox_and_tasks_three_ways(api, auth, task, department_officer, other_power_officer,
                                    nobody, django_assert_max_num_queries):
    headers = auth(department_officer)
    with django_assert_max_num_queries(6):
        inbox = api.get(f"{BASE}/inbox", headers=headers)
    assert inbox.status_code == 200 and task.pk in ids(inbox)
    assert inbox.json()[0]["case"]["tracking_no"]
    for outsider in (other_power_officer, nobody):
        assert task.pk not in ids(api.get(f"{BASE}/inbox", headers=auth(outsider)))
        for action in ("accept", "complete", "return"):
            response = api.post(f"{BASE}/tasks/{task.pk}/{action}", {"note": "x"},
                                headers=auth(outsider))
            assert response.status_code == 404
    # The officer sees the case it works on.
    assert api.get(f"{BASE}/cases/{task.case_id}",
                   headers=auth(department_officer)).status_code == 200
    assert api.post(f"{BASE}/tasks/{task.pk}/accept", {},
                    headers=auth(department_officer)).json()["status"] == "accepted"
    response = api.post(f"{BASE}/tasks/{task.pk}/accept", {}, headers=auth(department_officer))
    assert response.status_code == 409 and response.json()["code"] == "invalid-transition"
    done = api.post(f"{BASE}/tasks/{task.pk}/complete", {"note": "已修复"},
                    headers=auth(department_officer))
    assert done.json()["status"] == "done"
    assert Case.objects.get(pk=task.case_id).status == "resolved"


def test_task_return_needs_a_reason(api, auth, task, department_officer):
    response = api.post(f"{BASE}/tasks/{task.pk}/return", {}, headers=auth(department_officer))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "note"
    response = api.post(f"{BASE}/tasks/{task.pk}/return", {"note": "不是供电线路，是通信线缆"},
                        headers=auth(department_officer))
    assert response.json()["status"] == "returned"


# -- disputes -------------------------------------------------------------------------------


def dispute_body(actor, grid):
    from zhili.registry.models import Person

    a, b = Person.objects.restrict(actor, "registry.view_person").order_by("id")[:2]
    return {"category": "dispute-neighbour", "description": "噪声纠纷", "lon": grid.centre_lon,
            "lat": grid.centre_lat, "parties": [{"person_id": a.pk, "side": "applicant"},
                                                {"person_id": b.pk, "side": "respondent"}]}


def test_disputes_three_ways(api, auth, categories, grid, grid_worker, other_grid_worker,
                             nobody, resident, django_assert_max_num_queries):
    body = dispute_body(grid_worker, grid)
    for outsider in (other_grid_worker, nobody, resident):
        response = api.post(f"{BASE}/disputes", body, headers=auth(outsider))
        assert response.status_code == 422, response.content  # not in their area
    created = api.post(f"{BASE}/disputes", body, headers=auth(grid_worker))
    assert created.status_code == 201, created.content
    dispute = created.json()
    assert dispute["parties"][0]["name"].startswith("示")  # masked name
    assert "*" in dispute["parties"][0]["name"]
    url = f"{BASE}/disputes/{dispute['id']}"
    headers = auth(grid_worker)
    with django_assert_max_num_queries(6):
        listed = api.get(f"{BASE}/disputes", headers=headers, resolved=False)
    assert dispute["id"] in ids(listed)
    assert dispute["id"] not in ids(api.get(f"{BASE}/disputes", headers=auth(other_grid_worker)))
    assert api.get(f"{BASE}/disputes", headers=auth(nobody)).json()["count"] == 0
    session = {"held_at": timezone.now().isoformat(), "level": "grid", "result": "agreed"}
    for outsider in (other_grid_worker, nobody):
        assert api.get(url, headers=auth(outsider)).status_code == 404
        assert api.post(f"{url}/sessions", session, headers=auth(outsider)).status_code == 404
        assert api.post(f"{url}/resolve", {"level": "grid"},
                        headers=auth(outsider)).status_code == 404
    assert api.get(url, headers=auth(grid_worker)).status_code == 200
    assert api.post(f"{url}/sessions", session, headers=auth(grid_worker)).status_code == 201
    bad = api.post(f"{url}/resolve", {"level": "moon"}, headers=auth(grid_worker))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "level"
    resolved = api.post(f"{url}/resolve", {"level": "community", "agreement": "和解"},
                        headers=auth(grid_worker)).json()
    assert resolved["resolution_level"] == "community" and len(resolved["sessions"]) == 1


def test_openapi_documents_the_endpoints(api):
    schema = api.get("/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/governance/cases" in paths
    post = paths["/api/v1/governance/cases"]["post"]
    assert {"application/json", "multipart/form-data"} <= set(post["requestBody"]["content"])
    assert "/api/v1/governance/cases/{case_id}/accept" in paths
