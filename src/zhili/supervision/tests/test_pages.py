"""The dashboard, rankings and breakdown pages: scoped three ways, both languages."""

import pytest

from zhili.core.errors import PermissionDenied, ValidationFailed
from zhili.supervision.services import scoring_rule_save
from zhili.supervision.tests.conftest import DAY, caught_up

MONTH = DAY.date().replace(day=1).isoformat()


@pytest.fixture
def rule(db):
    return scoring_rule_save(actor=None, code="test-streets", name="街镇测试",
                             name_en="Street test", level="street", period="month", weights=[
                                 {"kpi": "governance.on_time_accept", "weight": 1, "worst": 0,
                                  "best": 1},
                                 {"kpi": "governance.satisfaction", "weight": 1, "worst": 1,
                                  "best": 5}])


def test_dashboard_shows_the_viewers_area_with_values_and_trends(client, street_operator,
                                                                  make_case, grid, settings):
    settings.LANGUAGE_CODE = "en"
    make_case(grid, DAY, status="accepted", accept_on_time=True)
    caught_up()
    client.force_login(street_operator)
    page = client.get("/supervision/", {"period": "month", "start": MONTH})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-kpi="governance.cases"' in html
    # The demo city's rescue circles are computed: the share of its risk points covered.
    assert "Rescue-circle coverage" in html and 'data-kpi="supervision.rescue_coverage"' in html
    assert "no rescue-circle data" not in html
    assert "<script>" not in html.replace('<script src=', '')
    assert page.context["node"].code == "500103001000"
    assert page.context["rows"][0]["value"].value == 1


def test_dashboard_scope_three_ways(client, street_operator, other_street_operator, resident,
                                    street):
    client.force_login(street_operator)
    assert client.get("/supervision/", {"area": street.code}).status_code == 200
    client.force_login(other_street_operator)
    assert client.get("/supervision/", {"area": street.code}).status_code == 404
    client.force_login(resident)
    assert client.get("/supervision/").status_code == 403
    client.logout()
    assert client.get("/supervision/").status_code == 302


def test_bad_period_input_falls_back_not_500(client, street_operator):
    client.force_login(street_operator)
    for params in ({"period": "year"}, {"start": "2026-13-40"}, {"area": "x" * 300}):
        assert client.get("/supervision/", params).status_code in (200, 404)


def test_rankings_and_breakdown(client, rule, district_operator, other_street_operator,
                                make_case, grid, other_grid, street, settings):
    settings.LANGUAGE_CODE = "en"
    make_case(grid, DAY, status="closed", accept_on_time=True, rating=5)
    make_case(other_grid, DAY, status="closed", accept_on_time=False, rating=3)
    caught_up()
    client.force_login(district_operator)
    page = client.get(f"/supervision/rankings/{rule.code}/", {"start": MONTH})
    assert page.status_code == 200
    scored = {row["node"].code: row["score"] for row in page.context["scores"]}
    assert scored["500103001000"].score == 100.0 and scored["500103001000"].rank == 1
    assert scored["500103002000"].score == 25.0  # (0 + 50) / 2
    detail = client.get(f"/supervision/rankings/{rule.code}/{street.code}/", {"start": MONTH})
    assert detail.status_code == 200 and b"Satisfaction" in detail.content
    client.force_login(other_street_operator)
    page = client.get(f"/supervision/rankings/{rule.code}/", {"start": MONTH})
    assert [row["node"].code for row in page.context["scores"]] == ["500103002000"]
    assert client.get(f"/supervision/rankings/{rule.code}/{street.code}/").status_code == 404
    assert client.get("/supervision/rankings/no-such-rule/").status_code == 404


def test_a_rule_naming_an_unknown_kpi_is_refused(db, city_admin, street_operator):
    with pytest.raises(ValidationFailed) as refused:
        scoring_rule_save(actor=city_admin, code="bad", name="坏", name_en="Bad", level="street",
                          weights=[{"kpi": "governance.no_such", "weight": 1, "worst": 0,
                                    "best": 1}])
    assert refused.value.errors[0].field == "weights[0].kpi"
    with pytest.raises(ValidationFailed):
        scoring_rule_save(actor=city_admin, code="bad", name="坏", name_en="Bad", level="street",
                          weights=[{"kpi": "governance.dispute_levels", "weight": 1,
                                    "worst": 0, "best": 1}])
    with pytest.raises(PermissionDenied):
        scoring_rule_save(actor=street_operator, code="x", name="x", name_en="x",
                          level="street", weights=[{"kpi": "governance.cases", "weight": 1,
                                                    "worst": 0, "best": 1}])
    from zhili.supervision.models import ScoringRule

    assert not ScoringRule.objects.filter(code__in=["bad", "x"]).exists()


def test_the_admin_form_refuses_an_unknown_kpi(client, city_admin, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(city_admin)
    response = client.post("/admin/supervision/scoringrule/add/", {
        "code": "adm", "name": "甲", "name_en": "A", "level": "street", "period": "month",
        "active": "on",
        "weights_json": '[{"kpi": "nope.kpi", "weight": 1, "worst": 0, "best": 1}]'})
    assert response.status_code == 200
    assert b"unknown KPI nope.kpi" in response.content
    response = client.post("/admin/supervision/scoringrule/add/", {
        "code": "adm", "name": "甲", "name_en": "A", "level": "street", "period": "month",
        "active": "on",
        "weights_json": '[{"kpi": "governance.cases", "weight": 1, "worst": 0, "best": 9}]'})
    assert response.status_code == 302
    from zhili.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="supervision.scoring_rule_save").exists()
