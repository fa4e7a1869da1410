"""/api/v1/supervision: values with reasons, problem details for bad input, scoping."""

import pytest

from zhili.supervision.tests.conftest import DAY, caught_up

MONTH = DAY.date().replace(day=1).isoformat()


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
    return login


def test_kpi_value_and_reason(api, as_user, street_operator, make_case, grid, settings):
    settings.LANGUAGE_CODE = "en"
    make_case(grid, DAY, status="accepted")
    caught_up()
    as_user(street_operator)
    r = api.get("/supervision/kpis/governance.cases", area="500103001", period="month",
                start=MONTH)
    assert r.status_code == 200 and r.json()["value"] == 1
    r = api.get("/supervision/kpis/governance.satisfaction", area="500103001",
                period="month", start=MONTH)
    assert r.json()["value"] is None and r.json()["reason"] == "no case was rated"
    r = api.get("/supervision/kpis/governance.cases/series", area="500103001",
                period="month", start=MONTH, count=3)
    assert [v["value"] for v in r.json()] == [0, 0, 1]
    assert len(api.get("/supervision/kpis").json()) >= 20


def test_bad_input_is_a_problem_and_scope_is_kept(api, as_user, street_operator, resident):
    as_user(street_operator)
    bad = [("/supervision/kpis/nope.kpi", {"area": "500103001", "start": MONTH}, 422),
           ("/supervision/kpis/governance.cases", {"area": "500103001", "start": "2031-03-04"},
            422),
           ("/supervision/kpis/governance.cases", {"area": "500103001", "period": "year",
                                                   "start": MONTH}, 422),
           ("/supervision/kpis/governance.cases", {"area": "500103002", "start": MONTH}, 404),
           ("/supervision/kpis/governance.cases", {"area": "zz", "start": MONTH}, 404),
           ("/supervision/rankings/none", {"start": MONTH}, 404)]
    for path, params, status in bad:
        r = api.get(path, **params)
        assert r.status_code == status, (path, params, r.content)
        assert r["Content-Type"].startswith("application/problem+json")
    as_user(resident)
    assert api.get("/supervision/kpis").status_code == 403


def test_scoring_rule_via_api(api, as_user, city_admin, street_operator):
    as_user(city_admin)
    body = {"code": "api-rule", "name": "接口", "name_en": "API", "level": "district",
            "weights": [{"kpi": "governance.unknown", "weight": 1, "worst": 0, "best": 1}]}
    r = api.post("/supervision/scoring-rules", body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "weights[0].kpi"
    body["weights"][0]["kpi"] = "governance.on_time_accept"
    assert api.post("/supervision/scoring-rules", body).status_code == 200
    r = api.get("/supervision/rankings/api-rule", start=MONTH)
    assert r.status_code == 200 and r.json()[0]["area"] == "50/500103/"
    as_user(street_operator)
    assert api.post("/supervision/scoring-rules", body).status_code == 403
