"""The KPI rules that raise problems: set through services (validated, audited, scoped),
through the admin form and the API; the sweep evaluates a rule only inside its area.
"""

from __future__ import annotations

import json

import pytest

from zhili.audit.models import AuditEntry
from zhili.core.errors import NotFound, PermissionDenied, ValidationFailed
from zhili.supervision import kpi_source
from zhili.supervision.models import Problem, ProblemRule
from zhili.supervision.problems import rules
from zhili.supervision.problems.selectors import problem_rule_list
from zhili.supervision.problems.services import (
    problem_rule_create,
    problem_rule_deactivate,
    problem_rule_update,
)

pytestmark = pytest.mark.django_db
RULES = "/supervision/problems/rules"
ON_TIME = "governance.on_time_resolve"  # a share: 0 to 1


def on_time_rule(actor, area, **fields):
    """"The area's streets' on-time rate below 90% for two weeks", set by `actor`."""
    values = dict(code="on-time-90", name="按时办结率连续两周低于90%", list_type="grid_weekly",
                  kpi=ON_TIME, threshold=0.9, area=getattr(area, "code", area))
    return problem_rule_create(actor=actor, **{**values, **fields})


def audited(action: str):
    """The entries a person made (the demo's rules were set by the system)."""
    return AuditEntry.objects.filter(action=action, actor__isnull=False)


# -- the services ----------------------------------------------------------------------


def test_a_rule_is_set_for_an_area_audited_and_seen_by_that_area(
        street, street_operator, other_street_operator, district_operator):
    rule = on_time_rule(street_operator, street, period="week", periods=2,
                        area_level="community", deadline_days=7)
    assert (rule.area, rule.area_path, rule.area_level) == (street, street.path, "community")
    entry = audited("problem_rule.create").get()
    assert entry.area_path == street.path and entry.detail["kpi"] == ON_TIME
    assert rule in problem_rule_list(actor=street_operator)
    assert rule in problem_rule_list(actor=district_operator)  # the street is in the district
    assert rule not in problem_rule_list(actor=other_street_operator)


def test_a_count_kpi_takes_a_threshold_above_one(street, street_operator):
    rule = on_time_rule(street_operator, street, kpi="governance.cases", comparison="above",
                        threshold=50)
    assert rule.threshold == 50.0


BAD = [
    ("code", {"code": "not a slug"}),
    ("code", {"code": ""}),
    ("name", {"name": "  "}),
    ("list_type", {"list_type": "yearly"}),
    ("kpi", {"kpi": "governance.nope"}),
    ("kpi", {"kpi": "governance.dispute_levels"}),  # a distribution, not a number
    ("comparison", {"comparison": "equal"}),
    ("threshold", {"threshold": float("nan")}),
    ("threshold", {"threshold": float("inf")}),
    ("threshold", {"threshold": "0.9"}),
    ("threshold", {"threshold": True}),
    ("threshold", {"threshold": 1.5}),  # a share is 0 to 1
    ("threshold", {"threshold": -0.1}),
    ("period", {"period": "day"}),
    ("periods", {"periods": 0}),
    ("periods", {"periods": 13}),
    ("periods", {"periods": True}),
    ("area_level", {"area_level": "city"}),
    ("area_level", {"area_level": "block"}),
    ("area_level", {"area_level": "district"}),  # above the street the rule is for
    ("deadline_days", {"deadline_days": 0}),
    ("deadline_days", {"deadline_days": 366}),
    ("area", {"area": "999999"}),
    ("active", {"active": "yes"}),
    ("colour", {"colour": "red"}),
]


@pytest.mark.parametrize(("field", "change"), BAD, ids=[f"{f}-{c}" for f, c in BAD])
def test_each_wrong_field_is_named_and_nothing_is_written(field, change, street,
                                                          street_operator):
    before = ProblemRule.objects.count()
    change = dict(change)
    with pytest.raises(ValidationFailed) as caught:
        on_time_rule(street_operator, change.pop("area", street), **change)
    assert [e.field for e in caught.value.errors] == [field]
    assert ProblemRule.objects.count() == before and audited("problem_rule.create").count() == 0


def test_a_code_in_use_is_refused(street, street_operator):
    on_time_rule(street_operator, street)
    with pytest.raises(ValidationFailed) as caught:
        on_time_rule(street_operator, street, name="again")
    assert caught.value.errors[0].field == "code"


def test_the_area_must_be_the_actors(street, other_street, district, street_operator,
                                     grid_worker, resident, city_admin):
    with pytest.raises(NotFound):  # outside the actor's area: as if there were none
        on_time_rule(street_operator, other_street)
    with pytest.raises(NotFound):
        on_time_rule(street_operator, district)
    with pytest.raises(PermissionDenied):  # the whole city is the city's to set
        on_time_rule(street_operator, None)
    for someone in (grid_worker, resident):
        with pytest.raises(PermissionDenied):
            on_time_rule(someone, street)
    assert not ProblemRule.objects.filter(code="on-time-90").exists()
    assert on_time_rule(city_admin, None).area_path == ""


def test_a_rule_is_changed_audited_and_kept_in_the_actors_area(
        street, other_street, street_operator, other_street_operator):
    rule = on_time_rule(street_operator, street)
    rule = problem_rule_update(actor=street_operator, rule=rule, threshold=0.8, periods=3)
    assert (rule.threshold, rule.periods) == (0.8, 3)
    entry = audited("problem_rule.update").get()
    assert entry.detail["changed"] == {"threshold": [0.9, 0.8], "periods": [2, 3]}
    for change, field in (({"code": "other"}, "code"), ({"threshold": 2}, "threshold"),
                          ({"kpi": "nope.kpi"}, "kpi"), ({"name": None}, "name")):
        with pytest.raises(ValidationFailed) as caught:
            problem_rule_update(actor=street_operator, rule=rule, **change)
        assert caught.value.errors[0].field == field
    with pytest.raises(NotFound):  # moved out of the actor's area
        problem_rule_update(actor=street_operator, rule=rule, area=other_street.code)
    with pytest.raises(NotFound):  # another street's operator does not see it
        problem_rule_update(actor=other_street_operator, rule=rule, threshold=0.5)
    rule.refresh_from_db()
    assert (rule.area_path, rule.threshold) == (street.path, 0.8)
    assert audited("problem_rule.update").count() == 1


def test_a_rule_above_the_actors_area_is_seen_but_not_changed(district, street_operator,
                                                              district_operator):
    rule = on_time_rule(district_operator, district)
    assert rule in problem_rule_list(actor=street_operator)  # it covers their street
    with pytest.raises(PermissionDenied):
        problem_rule_update(actor=street_operator, rule=rule, threshold=0.5)


def test_a_deactivated_rule_raises_nothing(street, street_operator, monkeypatch):
    ProblemRule.objects.update(active=False)  # the demo's rules
    rule = on_time_rule(street_operator, street)
    problem_rule_deactivate(actor=street_operator, rule=rule)
    assert audited("problem_rule.deactivate").get().detail["changed"] == {
        "active": [True, False]}
    monkeypatch.setattr(kpi_source, "kpi_figures", lambda code, area, cadence, starts: [0.5] * 2)
    assert rules.rules_evaluate() == 0


# -- the sweep -------------------------------------------------------------------------


def test_the_sweep_honours_the_rules_area(street, other_street, community, street_operator,
                                          monkeypatch):
    ProblemRule.objects.update(active=False)  # the demo's rules
    on_time_rule(street_operator, street)
    breaching = {other_street.pk}

    def figures(code, area, cadence, starts):
        return [0.5 if area.pk in breaching else 0.95] * len(starts)

    monkeypatch.setattr(kpi_source, "kpi_figures", figures)
    assert rules.rules_evaluate() == 0  # a breach outside the rule's area raises nothing
    breaching.add(street.pk)
    assert rules.rules_evaluate() == 1
    assert rules.rules_evaluate() == 0  # no second problem for the same breach
    problem = Problem.objects.get(rule__code="on-time-90")
    assert (problem.area, problem.list_type) == (street, "grid_weekly")
    # A community-level rule in the street reaches the street's communities only.
    on_time_rule(street_operator, street, code="community-on-time", area_level="community")
    breaching.update(a.pk for a in type(community).objects.filter(level="community"))
    raised = rules.rules_evaluate()
    assert raised == type(community).objects.filter(level="community",
                                                    path__startswith=street.path).count()
    assert not Problem.objects.filter(rule__code="community-on-time").exclude(
        area_path__startswith=street.path).exists()


# -- the admin form --------------------------------------------------------------------


@pytest.fixture
def staff(db):
    from zhili.accounts.services import user_update

    def make(user):
        user.is_staff = True
        user_update(actor=None, user=user, fields=["is_staff"])
        return user
    return make


def _form(area=None, **fields) -> dict:
    return {"code": "adm-on-time", "name": "按时办结率", "name_en": "On time",
            "list_type": "grid_weekly", "kpi": ON_TIME, "comparison": "below",
            "threshold": "0.9", "period": "week", "periods": "2",
            "area": str(area.pk) if area else "", "area_level": "street",
            "deadline_days": "14", "active": "on", **fields}


def test_the_admin_form_shows_kpis_by_name_and_saves_through_the_service(
        client, city_admin, street, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(city_admin)
    page = client.get("/admin/supervision/problemrule/add/")
    assert page.status_code == 200
    assert f"On-time rate: resolution ({ON_TIME})".encode() in page.content
    add = "/admin/supervision/problemrule/add/"
    refused = client.post(add, _form(street, threshold="1.5"))
    assert refused.status_code == 200 and b"a threshold from 0 to 1" in refused.content
    refused = client.post(add, _form(street, area_level="district"))
    assert refused.status_code == 200 and b"at or below the area" in refused.content
    assert not ProblemRule.objects.filter(code="adm-on-time").exists()
    assert client.post(add, _form(street)).status_code == 302
    rule = ProblemRule.objects.get(code="adm-on-time")
    assert rule.area_path == street.path and audited("problem_rule.create").count() == 1
    change = f"/admin/supervision/problemrule/{rule.pk}/change/"
    listed = client.get("/admin/supervision/problemrule/")
    assert listed.status_code == 200 and b"adm-on-time" in listed.content
    assert client.get(change).status_code == 200
    assert client.post(change, _form(street, threshold="0.8", code="renamed")).status_code == 302
    rule.refresh_from_db()
    assert (rule.code, rule.threshold) == ("adm-on-time", 0.8)  # the code cannot change
    assert audited("problem_rule.update").count() == 1


def test_the_admin_keeps_a_street_operator_to_their_street(client, staff, street_operator,
                                                           street, other_street):
    client.force_login(staff(street_operator))
    add = "/admin/supervision/problemrule/add/"
    refused = client.post(add, _form(other_street))
    assert refused.status_code == 200 and not ProblemRule.objects.filter(
        code="adm-on-time").exists()
    assert client.post(add, _form(street)).status_code == 302
    assert ProblemRule.objects.get(code="adm-on-time").area == street
    # The city's rules are listed for them but not theirs to change.
    city_rule = ProblemRule.objects.filter(area_path="").first()
    assert client.get(f"/admin/supervision/problemrule/{city_rule.pk}/change/").status_code \
        == 200
    refused = client.post(f"/admin/supervision/problemrule/{city_rule.pk}/change/",
                          _form(None, code=city_rule.code, threshold="0.5"))
    assert refused.status_code == 403
    city_rule.refresh_from_db()
    assert city_rule.threshold != 0.5


# -- the API ---------------------------------------------------------------------------


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
    return login


def _body(**fields) -> dict:
    return {"code": "api-on-time", "name": "按时办结率", "list_type": "grid_weekly",
            "kpi": ON_TIME, "threshold": 0.9, "area": "500103001", **fields}


def _patch(client, path, body):
    return client.patch(f"/api/v1{path}", json.dumps(body), content_type="application/json")


def test_rules_api_three_ways(api, client, as_user, street, district, resident,
                              street_operator, other_street_operator, district_operator):
    as_user(resident)  # no permission
    assert api.get(RULES).status_code == 403
    assert api.post(RULES, _body()).status_code == 403
    as_user(street_operator)  # with permission over the area
    r = api.post(RULES, _body())
    assert r.status_code == 201, r.content
    made = r.json()
    assert (made["area"], made["area_path"], made["may_edit"]) == (street.code, street.path,
                                                                    True)
    assert made["kpi_name"] and made["list_name"]
    assert "api-on-time" in {x["code"] for x in api.get(RULES).json()["items"]}
    r = _patch(client, f"{RULES}/api-on-time", {"threshold": 0.8, "area_level": "grid"})
    assert r.status_code == 200 and (r.json()["threshold"], r.json()["area_level"]) == (
        0.8, "grid")
    r = api.post(f"{RULES}/api-on-time/deactivate")
    assert r.status_code == 200 and r.json()["active"] is False
    assert "api-on-time" not in {
        x["code"] for x in api.get(RULES, active="true").json()["items"]}
    as_user(other_street_operator)  # permission scoped to another area
    assert api.get(f"{RULES}/api-on-time").status_code == 404
    assert _patch(client, f"{RULES}/api-on-time", {"threshold": 0.5}).status_code == 404
    assert api.post(RULES, _body(code="theirs")).status_code == 404
    assert "api-on-time" not in {x["code"] for x in api.get(RULES).json()["items"]}
    # A district's rule is seen from its streets, changed only by the district.
    as_user(district_operator)
    assert api.post(RULES, _body(code="district-rule", area=district.code)).status_code == 201
    as_user(street_operator)
    seen = api.get(f"{RULES}/district-rule").json()
    assert seen["may_edit"] is False
    assert _patch(client, f"{RULES}/district-rule", {"threshold": 0.5}).status_code == 403
    assert ProblemRule.objects.get(code="district-rule").threshold == 0.9


def test_rules_api_bad_input_names_the_field(api, client, as_user, street_operator):
    as_user(street_operator)
    for body, field in ((_body(kpi="nope.kpi"), "kpi"), (_body(threshold=2), "threshold"),
                        (_body(periods=99), "periods"), (_body(period="year"), "period"),
                        (_body(area_level="city"), "area_level"),
                        (_body(deadline_days=0), "deadline_days"),
                        (_body(list_type="x"), "list_type"), (_body(area="zz"), "area"),
                        (_body(comparison="equal"), "comparison"),
                        (_body(threshold="many"), "threshold")):
        r = api.post(RULES, body)
        assert r.status_code == 422, (body, r.content)
        assert r["Content-Type"].startswith("application/problem+json")
        assert field in {e["field"].split(".")[-1] for e in r.json()["errors"]}, r.json()
    assert not ProblemRule.objects.filter(code="api-on-time").exists()
    assert api.post(RULES, _body()).status_code == 201
    r = _patch(client, f"{RULES}/api-on-time", {"threshold": None})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "threshold"
    assert api.post(RULES, _body()).status_code == 422  # the code is in use


def test_rules_api_is_in_the_openapi_document(api, as_user, city_admin):
    as_user(city_admin)
    doc = api.get("/openapi.json").json()
    paths = {p: ops for p, ops in doc["paths"].items() if p.startswith(f"/api/v1{RULES}")}
    assert set(paths) == {f"/api/v1{RULES}", f"/api/v1{RULES}/{{code}}",
                          f"/api/v1{RULES}/{{code}}/deactivate"}
    for method in ("post",):
        assert {"201", "403", "404", "422"} <= set(paths[f"/api/v1{RULES}"][method]["responses"])
    assert {"200", "403", "404", "422"} <= set(
        paths[f"/api/v1{RULES}/{{code}}"]["patch"]["responses"])
