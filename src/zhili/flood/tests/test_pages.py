"""The flood pages: who sees what, the run form's errors, a run's results and failure."""

import pytest

from zhili.flood import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def done_run(flood_model, district_operator, heavy):
    queued = services.flood_run_request(actor=district_operator, model=flood_model,
                                        rainfall_csv=heavy)
    return services.flood_run_execute(run_id=queued.pk)


def test_pages_need_the_permission(client, grid_worker, flood_model):
    client.force_login(grid_worker)
    assert client.get("/flood/").status_code == 403
    assert client.get(f"/flood/m/{flood_model.pk}/").status_code == 403


def test_another_areas_model_and_run_are_404(client, other_street_operator, done_run):
    client.force_login(other_street_operator)
    assert client.get("/flood/").status_code == 200
    assert client.get(f"/flood/m/{done_run.model_id}/").status_code == 404
    assert client.get(f"/flood/r/{done_run.pk}/").status_code == 404
    assert client.get(f"/flood/r/{done_run.pk}/nodes.geojson").status_code == 404


def test_a_viewer_sees_the_model_without_the_run_form(client, street_operator, flood_model):
    client.force_login(street_operator)
    page = client.get(f"/flood/m/{flood_model.pk}/").content.decode()
    assert flood_model.name in page and "New forecast run" not in page
    response = client.post(f"/flood/m/{flood_model.pk}/run", {"source": "upload",
                                                              "rainfall": "x"})
    assert response.status_code == 403


def test_the_run_form_shows_the_bad_row_and_keeps_the_input(client, district_operator,
                                                             flood_model):
    client.force_login(district_operator)
    text = "2026-06-01 08:00,1\n2026-06-01 08:10,-3\n"
    response = client.post(f"/flood/m/{flood_model.pk}/run", {"source": "upload",
                                                              "rainfall": text})
    assert response.status_code == 422
    page = response.content.decode()
    assert "row 2" in page and 'data-error-for="rainfall"' in page and "-3" in page


def test_the_run_form_queues_a_run(client, district_operator, flood_model, heavy):
    client.force_login(district_operator)
    response = client.post(f"/flood/m/{flood_model.pk}/run", {"source": "upload",
                                                              "rainfall": heavy})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="queued"' in page and 'hx-trigger="every 2s"' in page


def test_a_done_run_shows_its_map_chart_and_flooded_nodes(client, street_operator, done_run):
    client.force_login(street_operator)
    page = client.get(f"/flood/r/{done_run.pk}/").content.decode()
    assert 'id="flood-map"' in page and "flood-map-config" in page
    assert '<svg class="chart flood-chart"' in page and 'class="flood"' in page
    assert 'data-node="' in page
    layer = client.get(f"/flood/r/{done_run.pk}/nodes.geojson").json()
    flooded = [f for f in layer["features"] if f["properties"]["flooded"]]
    assert flooded and all(f["properties"]["colour"] for f in flooded)
    status = client.get(f"/flood/r/{done_run.pk}/status", headers={"HX-Request": "true"})
    assert status["HX-Refresh"] == "true"


def test_a_failed_run_shows_the_engines_error_lines(client, district_operator, flood_model,
                                                    heavy):
    from zhili.flood.models import FloodRun

    queued = services.flood_run_request(actor=district_operator, model=flood_model,
                                        rainfall_csv=heavy)
    # The model's text damaged after its check (a hand edit in the database): the engine says so.
    flood_model.inp = flood_model.inp.replace("\nJ2 ", "\nJ2 abc ", 1)
    flood_model.save(update_fields=["inp"])
    run = services.flood_run_execute(run_id=queued.pk)
    assert run.status == FloodRun.Status.FAILED
    client.force_login(district_operator)
    page = client.get(f"/flood/r/{run.pk}/").content.decode()
    assert "The run failed" in page and "ERROR 211" in page and "at line" in page
