"""The risk-point map layer (the one map's warning layer) costs the same queries however
many points and open warnings it shows."""

from __future__ import annotations

import itertools

import pytest

from zhili.core.tests.queries import assert_flat

pytestmark = pytest.mark.django_db

_codes = itertools.count(1)


def features(response) -> int:
    return len(response.json()["features"])


def test_the_risk_point_layer_is_flat(client, catalogue, slope, grid, street_operator,
                                      django_assert_max_num_queries, django_assert_num_queries):
    from zhili.warning.services import risk_point_create, warning_raise

    def grow():
        for i in range(3):
            code = f"RP-QC-{next(_codes)}"
            point = risk_point_create(actor=None, code=code, name="测试点",
                                      category="landslide", lon=grid.centre_lon + 1e-4 * i,
                                      lat=grid.centre_lat, risk_level=2)
            warning_raise(risk_point=point, level=1 + i, source="operator",
                          condition=f"test:{code}")

    warning_raise(risk_point=slope, level=2, source="operator", condition="test:slope")
    client.force_login(street_operator)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get("/warning/layers/points.geojson"), grow=grow,
                rows=features, most=6)
