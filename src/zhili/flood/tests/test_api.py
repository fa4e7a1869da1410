"""/api/v1/flood: the three-way permission tests, problem+json for bad rainfall."""

import pytest

from zhili.flood import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def body(model, csv):
    return {"model": model.pk, "rainfall_csv": csv}


def test_anonymous_is_401(api, flood_model, heavy):
    response = api.post("/flood/runs", body(flood_model, heavy))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_without_the_permission_is_403(api, bearer, grid_worker, flood_model, heavy):
    assert api.post("/flood/runs", body(flood_model, heavy),
                    headers=bearer(grid_worker)).status_code == 403
    assert api.get("/flood/models", headers=bearer(grid_worker)).status_code == 403


def test_viewing_without_running_is_403_on_create(api, bearer, street_operator, flood_model, heavy):
    response = api.post("/flood/runs", body(flood_model, heavy), headers=bearer(street_operator))
    assert response.status_code == 403
    assert response.json()["code"] == "permission-denied"


def test_with_the_permission_a_run_is_queued_then_read(api, bearer, district_operator,
                                                       street_operator, flood_model, heavy):
    response = api.post("/flood/runs", body(flood_model, heavy), headers=bearer(district_operator))
    assert response.status_code == 202, response.content
    run = response.json()
    assert run["status"] == "queued" and run["model"] == flood_model.pk
    services.flood_run_execute(run_id=run["id"])
    status = api.get(f"/flood/runs/{run['id']}", headers=bearer(street_operator))
    assert status.status_code == 200 and status.json()["status"] == "done"
    results = api.get(f"/flood/runs/{run['id']}/results", headers=bearer(street_operator)).json()
    assert results["flooded"] and results["flooded"][0]["volume_m3"] > 0
    assert len(results["rainfall"]) == 12 and results["step_s"] == 600
    models = api.get("/flood/models", headers=bearer(street_operator)).json()
    assert flood_model.pk in {m["id"] for m in models}


def test_another_areas_run_and_model_are_404(api, bearer, other_street_operator,
                                             district_operator, flood_model, heavy):
    run = services.flood_run_request(actor=district_operator, model=flood_model,
                                     rainfall_csv=heavy)
    other = bearer(other_street_operator)
    assert api.get(f"/flood/runs/{run.pk}", headers=other).status_code == 404
    assert api.get(f"/flood/runs/{run.pk}/results", headers=other).status_code == 404
    assert flood_model.pk not in {m["id"] for m in api.get("/flood/models", headers=other).json()}


def test_a_run_on_a_model_outside_the_area_is_404(api, bearer, flood_model, heavy,
                                                  other_street, other_street_operator):
    from zhili.accounts.services import role_assign

    # An emergency commander of the next street may run forecasts, but not here.
    role_assign(user=other_street_operator, role="emergency_commander", area=other_street)
    response = api.post("/flood/runs", body(flood_model, heavy),
                        headers=bearer(other_street_operator))
    assert response.status_code == 404


@pytest.mark.parametrize("csv,row", [
    ("2026-06-01 08:00,1\n2026-06-01 08:10,1\n2026-06-01 09:00,1\n", "row 3"),
    ("2026-06-01 08:00,1\n2026-06-01 08:10,-4\n", "row 2"),
    ("2026-06-01 08:10,1\n2026-06-01 08:00,1\n", "row 2"),
])
def test_bad_rainfall_is_422_naming_the_row_and_nothing_is_queued(
        api, bearer, district_operator, flood_model, csv, row):
    from zhili.flood.models import FloodRun

    before = FloodRun.objects.count()
    response = api.post("/flood/runs", body(flood_model, csv), headers=bearer(district_operator))
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert row in response.json()["errors"][0]["message"]
    assert FloodRun.objects.count() == before


@pytest.mark.parametrize("extra,field", [
    ({"rainfall_csv": None}, "rainfall"),
    ({"sensor": "NO-SUCH-GAUGE", "rainfall_csv": None}, "sensor"),
    ({"scenario_mm": 50}, "scenario"),
    ({"scenario_mm": 50, "scenario_hours": -1}, "scenario"),
])
def test_bad_choices_are_422(api, bearer, district_operator, flood_model, heavy, extra, field):
    response = api.post("/flood/runs", {**body(flood_model, heavy), **extra},
                        headers=bearer(district_operator))
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field


def test_a_gauge_with_a_scenario(api, bearer, district_operator, flood_model, underpass):
    from datetime import timedelta

    from django.utils import timezone

    from zhili.warning.ingest import RawReading, readings_ingest
    from zhili.warning.services import sensor_register

    sensor_register(actor=None, risk_point=underpass, code="RP-FLOOD-1-RAIN",
                    sensor_type="rainfall_1h")
    now = timezone.now().replace(second=0, microsecond=0)
    readings_ingest(readings=[RawReading("RP-FLOOD-1-RAIN", (now - timedelta(minutes=m)).isoformat(),
                                         8.0) for m in range(0, 180, 10)], now=now)
    response = api.post("/flood/runs", {"model": flood_model.pk, "sensor": "RP-FLOOD-1-RAIN",
                                        "hours": 2, "scenario_mm": 60, "scenario_hours": 1},
                        headers=bearer(district_operator))
    assert response.status_code == 202, response.content
    assert response.json()["scenario"] == "+60 mm over 1 h"
    from zhili.flood.models import FloodRun

    run = FloodRun.objects.get(pk=response.json()["id"])
    assert run.source == "gauge" and run.rainfall[-1][1] == 60.0
