"""Query counts of the flood lists and the run's map layer: pinned, and flat in rows."""

import pytest

from zhili.core.tests.queries import assert_flat, items, marked
from zhili.flood import services

pytestmark = pytest.mark.django_db


def test_the_runs_page_is_flat(client, district_operator, flood_model, heavy,
                               django_assert_max_num_queries, django_assert_num_queries):
    client.force_login(district_operator)
    services.flood_run_request(actor=district_operator, model=flood_model, rainfall_csv=heavy)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get("/flood/"),
                grow=lambda: services.flood_run_request(actor=district_operator, model=flood_model,
                                                        rainfall_csv=heavy),
                rows=marked('data-status="'), most=12)


def test_the_models_endpoint_is_flat(api, bearer, district_operator, flood_model, small_inp,
                                     district, django_assert_max_num_queries,
                                     django_assert_num_queries):
    headers = bearer(district_operator)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: api.get("/flood/models", headers=headers),
                grow=lambda: services.drainage_model_add(actor=None, area=district, name="第二",
                                                         inp_text=small_inp),
                rows=items, most=8)


def test_the_run_layer_and_results_are_pinned(client, api, bearer, district_operator,
                                              flood_model, heavy, django_assert_max_num_queries):
    queued = services.flood_run_request(actor=district_operator, model=flood_model,
                                        rainfall_csv=heavy)
    run = services.flood_run_execute(run_id=queued.pk)
    client.force_login(district_operator)
    client.get(f"/flood/r/{run.pk}/nodes.geojson")
    with django_assert_max_num_queries(6):
        layer = client.get(f"/flood/r/{run.pk}/nodes.geojson").json()
    assert layer["features"]
    headers = bearer(district_operator)
    with django_assert_max_num_queries(8):
        assert api.get(f"/flood/runs/{run.pk}/results", headers=headers).json()["flooded"]


def test_the_flooded_layer_is_flat(client, district_operator, flood_model, small_inp, street,
                                   heavy, django_assert_max_num_queries,
                                   django_assert_num_queries):
    def forecast(model):
        queued = services.flood_run_request(actor=district_operator, model=model,
                                            rainfall_csv=heavy)
        return services.flood_run_execute(run_id=queued.pk)

    forecast(flood_model)
    client.force_login(district_operator)
    second = services.drainage_model_add(actor=None, area=street, name="第二管网",
                                         inp_text=small_inp)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get("/flood/layers/flooded.geojson"),
                grow=lambda: forecast(second),
                rows=lambda r: len(r.json()["features"]), most=6)
