"""The governance pages: the three-way permission test for every page (anonymous →
login, own area → 200, another area → 404), the forms through the real services,
htmx partials, the offline outbox's JSON answers, and pinned query counts."""

from __future__ import annotations

import json

import pytest

from zhili.governance import services
from zhili.governance.models import Case, DepartmentTask, Status
from zhili.governance.tests.conftest import upload

G = "/governance"


@pytest.fixture
def case(report):
    """A sagging power line on worker1's grid, reported by resident1 with a photo."""
    return report(category="power-line-sagging", description="电线垂到二楼窗口",
                  photos=[upload()])


@pytest.fixture
def other_resident(db, other_grid):
    from zhili.accounts.roles import Role
    from zhili.accounts.services import role_assign, user_create

    user = user_create(username="resident-other", password=None, display_name="居民二")
    role_assign(user=user, role=Role.RESIDENT, area=other_grid)
    return user


@pytest.fixture
def other_officer(db, other_street):
    """A power officer of the other street: not the case's area."""
    from zhili.accounts.models import Department
    from zhili.accounts.roles import Role
    from zhili.accounts.services import role_assign, user_create

    user = user_create(username="power-other", password=None, display_name="供电二")
    role_assign(user=user, role=Role.DEPARTMENT_OFFICER, area=other_street,
                department=Department.objects.get(code="power"))
    return user


@pytest.fixture
def dispatched(case, grid_worker, street_operator):
    case = services.case_accept(actor=grid_worker, case=case, version=case.version,
                                now=case.created_at)
    return services.case_dispatch_departments(actor=street_operator, case=case,
                                              version=case.version, lead="power",
                                              now=case.created_at)


def as_user(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client


def assert_login_redirect(response):
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# -- the three-way test, page by page ---------------------------------------------------------

def test_report_page(client, resident):
    assert_login_redirect(client.get(f"{G}/report/"))
    response = as_user(client, resident).get(f"{G}/report/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="category"' in html and "leaflet/leaflet.js" in html
    assert 'name="crs"' in html and 'name="idempotency_key"' in html


def test_patrol_page(client, grid_worker, resident, grid):
    assert_login_redirect(client.get(f"{G}/patrol/"))
    response = as_user(client, grid_worker).get(f"{G}/patrol/")
    assert response.status_code == 200
    # The pin starts at the worker's grid centre.
    assert f'data-lon="{grid.centre_lon:.7f}"' in response.content.decode()
    assert as_user(client, resident).get(f"{G}/patrol/").status_code == 404


def test_report_done_and_my_case(client, case, resident, other_resident, other_street_operator,
                                 street_operator):
    for path in (f"{G}/report/{case.tracking_no}/done/", f"{G}/my/{case.tracking_no}/"):
        assert_login_redirect(as_user(client, None).get(path))
        response = as_user(client, resident).get(path)
        assert response.status_code == 200 and case.tracking_no in response.content.decode()
        assert as_user(client, other_resident).get(path).status_code == 404
        assert as_user(client, other_street_operator).get(path).status_code == 404
    assert as_user(client, street_operator).get(f"{G}/my/{case.tracking_no}/").status_code == 200


def test_my_cases(client, case, resident, other_resident):
    assert_login_redirect(client.get(f"{G}/my/"))
    assert case.tracking_no in as_user(client, resident).get(f"{G}/my/").content.decode()
    response = as_user(client, other_resident).get(f"{G}/my/")
    assert response.status_code == 200 and case.tracking_no not in response.content.decode()


def test_tasks(client, case, grid_worker, other_grid_worker, resident):
    assert_login_redirect(client.get(f"{G}/tasks/"))
    response = as_user(client, grid_worker).get(f"{G}/tasks/")
    assert response.status_code == 200 and case.tracking_no in response.content.decode()
    response = as_user(client, other_grid_worker).get(f"{G}/tasks/")
    assert response.status_code == 200 and case.tracking_no not in response.content.decode()
    assert as_user(client, resident).get(f"{G}/tasks/").status_code == 404


@pytest.mark.parametrize("page", ["queue", "overdue"])
def test_queue_and_overdue(client, case, street_operator, other_street_operator, resident, page,
                           now):
    # The reported case is overdue: its accept time ran out long ago (the fixture clock).
    assert_login_redirect(client.get(f"{G}/{page}/"))
    response = as_user(client, street_operator).get(f"{G}/{page}/")
    assert response.status_code == 200
    if page == "queue":
        assert case.tracking_no in response.content.decode()
    response = as_user(client, other_street_operator).get(f"{G}/{page}/")
    assert response.status_code == 200 and case.tracking_no not in response.content.decode()
    assert as_user(client, resident).get(f"{G}/{page}/").status_code == 404


def test_overdue_lists_an_overdue_case(client, report, street_operator):
    from datetime import timedelta

    from django.utils import timezone

    late = report(at=timezone.now() - timedelta(days=2), category="manhole-cover")
    response = as_user(client, street_operator).get(f"{G}/overdue/")
    assert late.tracking_no in response.content.decode()


def test_case_page(client, case, grid_worker, street_operator, other_street_operator,
                   other_grid_worker, resident):
    path = f"{G}/cases/{case.pk}/"
    assert_login_redirect(client.get(path))
    for user in (grid_worker, street_operator):
        response = as_user(client, user).get(path)
        assert response.status_code == 200
        html = response.content.decode()
        assert case.tracking_no in html and 'id="case-map"' in html
    assert 'value="accept"' in as_user(client, grid_worker).get(path).content.decode()
    for user in (other_street_operator, other_grid_worker):
        assert as_user(client, user).get(path).status_code == 404
    # The reporter is sent to their own page.
    response = as_user(client, resident).get(path)
    assert response.status_code == 302 and response["Location"] == f"{G}/my/{case.tracking_no}/"


def test_case_actions_are_scoped(client, case, other_street_operator, other_grid_worker):
    for user in (None, other_street_operator, other_grid_worker):
        response = as_user(client, user).post(f"{G}/cases/{case.pk}/accept/",
                                              {"version": case.version})
        if user is None:
            assert_login_redirect(response)
        else:
            assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == Status.REPORTED
    assert as_user(client, other_street_operator).post(
        f"{G}/cases/{case.pk}/frobnicate/", {}).status_code == 404


def test_photo(client, case, resident, grid_worker, other_resident, other_street_operator):
    photo = case.photos.get()
    path = f"{G}/photos/{photo.pk}/"
    assert_login_redirect(client.get(path))
    for user in (resident, grid_worker):
        response = as_user(client, user).get(path)
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    for user in (other_resident, other_street_operator):
        assert as_user(client, user).get(path).status_code == 404


def test_inbox_and_task_actions(client, dispatched, department_officer, other_officer, resident):
    task = DepartmentTask.objects.get(case=dispatched)
    assert_login_redirect(client.get(f"{G}/inbox/"))
    response = as_user(client, department_officer).get(f"{G}/inbox/")
    assert response.status_code == 200 and dispatched.tracking_no in response.content.decode()
    response = as_user(client, other_officer).get(f"{G}/inbox/")
    assert response.status_code == 200 and dispatched.tracking_no not in response.content.decode()
    assert as_user(client, resident).get(f"{G}/inbox/").status_code == 404
    # The officer opens the case; the other street's officer cannot.
    assert as_user(client, department_officer).get(f"{G}/cases/{dispatched.pk}/").status_code == 200
    assert as_user(client, other_officer).get(f"{G}/cases/{dispatched.pk}/").status_code == 404
    assert as_user(client, other_officer).post(f"{G}/inbox/{task.pk}/accept/").status_code == 404
    assert_login_redirect(as_user(client, None).post(f"{G}/inbox/{task.pk}/accept/"))
    # Accept, then complete: the case is resolved.
    officer = as_user(client, department_officer)
    assert officer.post(f"{G}/inbox/{task.pk}/accept/").status_code == 302
    response = officer.post(f"{G}/inbox/{task.pk}/complete/", {"note": "已重新架设"})
    assert response.status_code == 302 and response["Location"] == f"{G}/inbox/"
    dispatched.refresh_from_db()
    assert dispatched.status == Status.RESOLVED


def test_figures(client, case, street_operator, other_street_operator, resident):
    assert_login_redirect(client.get(f"{G}/figures/"))
    mine = as_user(client, street_operator).get(f"{G}/figures/")
    theirs = as_user(client, other_street_operator).get(f"{G}/figures/")
    assert mine.status_code == theirs.status_code == 200
    assert mine.context["data"]["total"] != theirs.context["data"]["total"]
    assert as_user(client, resident).get(f"{G}/figures/").status_code == 404


def test_home_sends_each_role_to_its_page(client, street_operator, grid_worker,
                                          department_officer, resident):
    assert_login_redirect(client.get(f"{G}/"))
    for user, target in ((street_operator, "queue"), (grid_worker, "tasks"),
                         (department_officer, "inbox"), (resident, "my")):
        response = as_user(client, user).get(f"{G}/")
        assert response["Location"] == f"{G}/{target}/"


def test_installable_and_offline_assets_are_public(client, db):
    manifest = client.get(f"{G}/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest["Content-Type"].startswith("application/manifest+json")
    body = json.loads(manifest.content)
    assert body["start_url"] == f"{G}/" and body["display"] == "standalone"
    assert {i["sizes"] for i in body["icons"]} == {"192x192", "512x512"}
    worker = client.get(f"{G}/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("application/javascript")
    assert worker["Service-Worker-Allowed"] == f"{G}/"
    text = worker.content.decode()
    assert "/static/leaflet/leaflet.js" in text and f"{G}/offline/" in text
    assert "&quot;" not in text  # JSON, not HTML-escaped
    assert client.get(f"{G}/offline/").status_code == 200
    for name in ("offline.js", "forms.js", "report.js", "casemap.js", "governance.css",
                 "icon-192.png"):
        from django.contrib.staticfiles import finders

        assert finders.find(f"governance/{name}"), name


# -- forms through the services ---------------------------------------------------------------

def report_form(grid, **extra):
    form = {"category": "road-damage", "description": "路面塌陷", "lon": f"{grid.centre_lon}",
            "lat": f"{grid.centre_lat}", "crs": "wgs84", "address": "", "contact_phone": "",
            "idempotency_key": "page-key-1"}
    form.update(extra)
    return form


def test_report_with_photo_then_retry_returns_the_same_case(client, categories, resident, grid):
    from zhili.governance.tests.conftest import jpeg_bytes

    form = report_form(grid, photos=[upload("p.jpg", jpeg_bytes(exif_gps=True))],
                       anonymous="on")
    form["category"] = "manhole-cover"
    client = as_user(client, resident)
    response = client.post(f"{G}/report/", form)
    assert response.status_code == 302
    case = Case.objects.get(tracking_no=response["Location"].split("/")[3])
    assert case.channel == "resident" and case.reporter == resident and case.anonymous
    assert case.photos.count() == 1
    again = client.post(f"{G}/report/", report_form(grid, category="manhole-cover"))
    assert again["Location"] == response["Location"]  # same idempotency key: same case
    # The outbox asks for JSON and sends the key as a header.
    response = client.post(f"{G}/report/", report_form(grid, idempotency_key="",
                                                       category="manhole-cover"),
                           headers={"Accept": "application/json", "Idempotency-Key": "page-key-1"})
    assert response.status_code == 200 and response.json()["tracking_no"] == case.tracking_no


def test_report_errors_are_shown_and_nothing_is_written(client, categories, resident, grid):
    client = as_user(client, resident)
    before = Case.objects.count()
    for form, field_text in [
        (report_form(grid, category="", idempotency_key=""), "category"),
        (report_form(grid, description="", idempotency_key=""), "description"),
        (report_form(grid, lon="", lat="", idempotency_key=""), "pin"),
        (report_form(grid, lon="10", lat="10", idempotency_key=""), "grid"),
        (report_form(grid, crs="mars", idempotency_key=""), "crs"),
        (report_form(grid, idempotency_key="", photos=[upload("x.jpg", b"not an image")]),
         "photo"),
        (report_form(grid, idempotency_key=""), "size"),  # road damage asks how large
        (report_form(grid, idempotency_key="", **{"attribute[size]": "enormous"}), "size"),
    ]:
        response = client.post(f"{G}/report/", form)
        assert response.status_code == 422, field_text
        assert b"field-error" in response.content or b'class="error"' in response.content
    response = client.post(f"{G}/report/", report_form(grid, category="", idempotency_key=""),
                           headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "category"
    assert Case.objects.count() == before
    response = client.post(f"{G}/report/", report_form(grid, idempotency_key="",
                                                       **{"attribute[size]": "large"}))
    assert response.status_code == 302
    assert Case.objects.order_by("-id").first().attributes == {"size": "large"}


def test_report_form_asks_each_categorys_questions(client, categories, resident):
    html = as_user(client, resident).get(f"{G}/report/").content.decode()
    assert 'data-category="road-damage" disabled hidden' in html
    assert 'name="attribute[size]"' in html and 'name="attribute[hazard]"' in html


def test_patrol_report_is_on_the_workers_grid(client, categories, grid_worker, grid, other_grid):
    client = as_user(client, grid_worker)
    response = client.post(f"{G}/patrol/", report_form(grid, idempotency_key="patrol-1",
                                                       category="garbage"))
    assert response.status_code == 302
    case = Case.objects.get(tracking_no=response["Location"].split("/")[3])
    assert case.channel == "patrol" and case.grid == grid
    response = client.post(f"{G}/patrol/", report_form(other_grid, idempotency_key="patrol-2",
                                                       lon=f"{other_grid.centre_lon}",
                                                       lat=f"{other_grid.centre_lat}"))
    assert response.status_code == 422


def test_worker_accepts_checks_in_and_resolves(client, case, grid_worker):
    client = as_user(client, grid_worker)
    base = f"{G}/cases/{case.pk}"
    response = client.post(f"{base}/accept/", {"version": case.version})
    assert response.status_code == 302 and response["Location"] == f"{base}/"
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    response = client.post(f"{base}/arrive/", {"version": case.version, "lon": case.lon,
                                               "lat": case.lat, "crs": "wgs84"})
    case.refresh_from_db()
    assert case.status == Status.ON_SITE
    assert case.events.get(kind="arrived").data["distance_m"] == 0
    response = client.post(f"{base}/resolve/", {"version": case.version, "note": "已处理",
                                                "photos": [upload()]})
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.photos.count() == 2


def test_a_stale_version_changes_nothing_and_says_so(client, case, grid_worker):
    client = as_user(client, grid_worker)
    response = client.post(f"{G}/cases/{case.pk}/accept/", {"version": case.version + 5},
                           follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["warning"]
    case.refresh_from_db()
    assert case.status == Status.REPORTED
    # The outbox gets problem+json with the status.
    response = client.post(f"{G}/cases/{case.pk}/accept/", {"version": case.version + 5},
                           headers={"Accept": "application/json"})
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    response = client.post(f"{G}/cases/{case.pk}/verify/", {"version": case.version},
                           headers={"Accept": "application/json"})
    assert response.status_code in (403, 409)
    response = client.post(f"{G}/cases/{case.pk}/accept/", {"version": case.version},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json() == {"ok": True, "status": "accepted", "version": case.version + 1,
                                "tracking_no": case.tracking_no}


def test_street_centre_assigns_dispatches_and_rejects(client, case, street_operator,
                                                       grid_worker):
    client = as_user(client, street_operator)
    base = f"{G}/cases/{case.pk}"
    page = client.get(f"{base}/").content.decode()
    assert 'id="dispatch"' in page and 'id="assign"' in page
    assert f'value="{grid_worker.pk}"' in page
    client.post(f"{base}/assign/", {"version": case.version, "assignee": grid_worker.pk})
    case.refresh_from_db()
    assert case.assignee == grid_worker
    response = client.post(f"{base}/dispatch/", {"version": case.version, "lead": "power",
                                                 "cooperating": ["power", "urban-management"],
                                                 "instructions": "请尽快处理", "due_hours": "4"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED
    roles = dict(DepartmentTask.objects.filter(case=case)
                 .values_list("department__code", "role"))
    assert roles == {"power": "lead", "urban-management": "cooperating"}
    response = client.post(f"{base}/dispatch/", {"version": case.version, "lead": "power",
                                                 "due_hours": "many"})
    # Refused beside its field, in words, with the form open (test_pages_forms.py has more).
    assert response.status_code == 422
    assert response.context["errors"]["due_hours"]


def test_resident_rates_and_may_reopen(client, case, grid_worker, resident, other_resident):
    case = services.case_accept(actor=grid_worker, case=case, version=case.version)
    case = services.case_resolve(actor=grid_worker, case=case, version=case.version,
                                 note="已修好")
    page = as_user(client, resident).get(f"{G}/my/{case.tracking_no}/").content.decode()
    assert 'id="rate"' in page and 'id="reopen"' in page
    assert as_user(client, other_resident).post(f"{G}/my/{case.tracking_no}/rate/",
                                                {"rating": "5"}).status_code == 404
    client = as_user(client, resident)
    response = client.post(f"{G}/my/{case.tracking_no}/rate/", {"rating": "9"}, follow=True)
    # The banner says it in words, not by the internal field name.
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1 and "rating" not in shown[0]
    response = client.post(f"{G}/my/{case.tracking_no}/rate/", {"rating": "4",
                                                                "comment": "及时"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.rating == 4 and case.status == Status.CLOSED
    response = client.post(f"{G}/my/{case.tracking_no}/reopen/", {"version": case.version,
                                                                  "reason": "又坏了"})
    case.refresh_from_db()
    assert case.status == Status.REOPENED


def test_anonymous_reporter_is_hidden_from_staff(client, report, street_operator, resident):
    case = report(category="noise", anonymous=True, contact_phone="13700000000")
    html = as_user(client, street_operator).get(f"{G}/cases/{case.pk}/").content.decode()
    assert resident.display_name not in html and "13700000000" not in html
    html = as_user(client, resident).get(f"{G}/my/{case.tracking_no}/").content.decode()
    assert case.tracking_no in html


def test_partials_for_htmx_polling(client, case, grid_worker, street_operator, resident):
    hx = {"HX-Request": "true"}
    for user, path, marker in (
        (grid_worker, f"{G}/tasks/", case.tracking_no),
        (street_operator, f"{G}/queue/", case.tracking_no),
        (street_operator, f"{G}/figures/", 'data-figure="total"'),
        (street_operator, f"{G}/cases/{case.pk}/?v={case.version}", 'id="timeline"'),
        (resident, f"{G}/my/", case.tracking_no),
        (resident, f"{G}/my/{case.tracking_no}/", 'id="timeline"'),
    ):
        response = as_user(client, user).get(path, headers=hx)
        html = response.content.decode()
        assert response.status_code == 200 and marker in html, path
        assert "<html" not in html, path
    # A stale page is told the case changed.
    html = as_user(client, street_operator).get(f"{G}/cases/{case.pk}/?v=0",
                                                headers=hx).content.decode()
    assert "data-changed" in html
    html = as_user(client, street_operator).get(f"{G}/cases/{case.pk}/?v={case.version}",
                                                headers=hx).content.decode()
    assert "data-changed" not in html


# -- query counts --------------------------------------------------------------------------------

@pytest.mark.parametrize("who,path,limit", [
    # session, user, role assignments, then the page's own reads: fixed, whatever the rows
    ("grid_worker", "/tasks/", 5),
    ("street_operator", "/queue/", 8),
    ("street_operator", "/overdue/", 6),
    ("department_officer", "/inbox/", 5),
    ("resident", "/my/", 5),
    ("street_operator", "/figures/", 18),
    ("street_operator", "/cases/{pk}/", 11),
    ("resident", "/my/{no}/", 7),
])
def test_list_pages_query_counts(client, request, report, street_operator, grid, who, path, limit,
                                 django_assert_max_num_queries):
    for n in range(4):
        case = report(category=["road-damage", "garbage", "noise", "manhole-cover"][n])
        services.case_dispatch_departments(actor=street_operator, case=case,
                                           version=case.version, lead="power")
    path = f"{G}{path}".format(pk=case.pk, no=case.tracking_no)
    client = as_user(client, request.getfixturevalue(who))
    client.get(path)  # warm caches (the locate index, translations)
    with django_assert_max_num_queries(limit):
        response = client.get(path)
    assert response.status_code == 200
