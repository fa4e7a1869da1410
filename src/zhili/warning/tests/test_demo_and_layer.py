"""The demo's history and the risk-point map layer."""

import pytest

from zhili.warning.models import CapMessage, RiskPoint, Warning

pytestmark = pytest.mark.django_db


def test_the_demo_lives():
    """Seeded with the city: warnings at several levels, open and closed, public ones in
    CAP with updates and a cancel, one that opened a case, a silent gauge."""
    assert RiskPoint.objects.filter(code__startswith="DEMO-RP-", synthetic=True).count() == 6
    demo = Warning.objects.filter(risk_point__code__startswith="DEMO-RP-")
    assert {w.peak_level for w in demo} >= {1, 2, 3}
    assert demo.filter(status__in=Warning.OPEN).exists() and demo.filter(status="closed").exists()
    assert demo.filter(status="cancelled").exists()
    assert demo.filter(condition__startswith="silent:").exists()
    assert demo.filter(events__kind="case_opened").exists()
    kinds = set(CapMessage.objects.filter(warning__in=demo).values_list("msg_type", flat=True))
    assert kinds == {"Alert", "Update", "Cancel"}
    # People answered: some acknowledged (one reported the action taken), the rest escalated.
    assert demo.filter(events__kind="acknowledged").count() >= 2
    assert demo.filter(events__kind="action_reported", status="handling").exists()
    assert demo.filter(events__kind="escalated").exists()


def layer(client, user):
    client.force_login(user)
    return client.get("/warning/layers/points.geojson")


def test_the_layer_shows_the_viewers_area_only(client, street_operator, other_street_operator,
                                               district_operator):
    mine = layer(client, street_operator).json()["features"]
    theirs = layer(client, other_street_operator).json()["features"]
    everything = layer(client, district_operator).json()["features"]
    assert mine and theirs
    assert {f["id"] for f in mine}.isdisjoint({f["id"] for f in theirs})
    assert {f["id"] for f in mine} | {f["id"] for f in theirs} <= {f["id"] for f in everything}
    assert {f["properties"]["colour"] for f in everything} & {"yellow", "blue", "orange", "red"}


def test_the_layer_is_refused_without_the_permission(client, resident):
    assert layer(client, resident).status_code == 403


def test_the_map_offers_the_layer(client, street_operator):
    client.force_login(street_operator)
    assert b"/warning/layers/points.geojson" in client.get("/geo/map/").content
