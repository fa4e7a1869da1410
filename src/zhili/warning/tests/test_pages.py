"""The operators' warning pages: scoped, in level colours, with the readings chart."""

import pytest

from zhili.warning.models import Warning

pytestmark = pytest.mark.django_db


def demo_warning(**filters):
    return Warning.objects.filter(risk_point__code__startswith="DEMO-RP-", **filters).first()


def test_the_list_shows_open_warnings_of_the_area_only(client, district_operator, street_operator):
    client.force_login(district_operator)
    page = client.get("/warning/").content.decode()
    open_ones = Warning.objects.filter(risk_point__code__startswith="DEMO-RP-",
                                       status__in=Warning.OPEN)
    for w in open_ones:
        assert w.number in page
    closed = demo_warning(status="closed")
    assert closed.number not in page
    assert closed.number in client.get("/warning/?status=all").content.decode()
    client.force_login(street_operator)
    mine = client.get("/warning/?status=all").content.decode()
    assert any(w.number not in mine for w in Warning.objects.all())  # other streets' are not


def test_nonsense_filters_are_ignored_not_500(client, district_operator):
    client.force_login(district_operator)
    for query in ("level=abc", "level=9", "status=zzz", "page=-1"):
        assert client.get(f"/warning/?{query}").status_code == 200
    assert client.get("/warning/?status=%00").status_code == 400  # the input guard


def test_the_detail_has_the_chart_timeline_measures_and_case(client, district_operator):
    client.force_login(district_operator)
    warning = demo_warning(events__kind="case_opened")
    page = client.get(f"/warning/w/{warning.number}/").content.decode()
    assert "<polyline" in page and "stroke-dasharray" in page
    assert 'data-kind="raised"' in page and 'data-kind="case_opened"' in page
    assert "/governance/cases/" in page
    assert warning.risk_point.category.measures[str(warning.peak_level)]["zh"] in page


def test_the_detail_is_404_outside_the_area_and_403_without_the_permission(
        client, street_operator, resident):
    warning = Warning.objects.exclude(area_path__startswith=street_operator.scope(
        "warning.view_warning").paths[0]).first()
    client.force_login(street_operator)
    assert client.get(f"/warning/w/{warning.number}/").status_code == 404
    client.force_login(resident)
    assert client.get("/warning/").status_code == 403


def test_the_menu_offers_warnings_to_operators(client, district_operator, resident):
    client.force_login(district_operator)
    assert 'data-nav="warning:list"' in client.get("/").content.decode()
    client.force_login(resident)
    assert 'data-nav="warning:list"' not in client.get("/").content.decode()
