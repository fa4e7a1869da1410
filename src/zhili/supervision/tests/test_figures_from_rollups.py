"""governance's figures and bundles' observed metrics take their KPIs from the roll-ups
(not computed again over rows); the bundles monthly report reads the live KPIs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from zhili.governance.figures import case_figures
from zhili.governance.selectors import CaseFilters
from zhili.supervision.selectors import kpi_values_between
from zhili.supervision.tests.conftest import DAY, caught_up

pytestmark = pytest.mark.django_db


def _filters(grid, **extra):
    return CaseFilters(area=grid.code, created_from=DAY,
                       created_to=DAY + timedelta(days=1), **extra)


def test_the_figures_kpis_are_the_rollups(make_case, grid, street_operator, grid_worker):
    make_case(grid, DAY + timedelta(hours=9), status="closed", rating=4, accept_on_time=True)
    make_case(grid, DAY + timedelta(hours=10), status="closed", rating=2, accept_on_time=False)
    before = case_figures(actor=street_operator, filters=_filters(grid))
    assert before["satisfaction"]["rated"] == 2  # a breakdown: counted over the rows
    assert before["satisfaction"]["average"] is None  # a KPI: not rolled up yet
    caught_up()
    after = case_figures(actor=street_operator, filters=_filters(grid))
    k = after["kpis"]
    assert k["area"] == grid.path and k["first_day"] == DAY.date()
    assert k["end_day"] == DAY.date() + timedelta(days=1)
    rolled = kpi_values_between(["governance.satisfaction", "governance.on_time_accept"],
                                grid.path, k["first_day"], k["end_day"])
    assert after["satisfaction"]["average"] == rolled["governance.satisfaction"].value == 3
    assert after["on_time_rate"]["accept"] == rolled["governance.on_time_accept"].value == 0.5
    # A grid worker has no supervision role: the figures read the KPIs of their grid for them.
    mine = case_figures(actor=grid_worker, filters=_filters(grid))
    assert mine["satisfaction"]["average"] == 3
    # Filters the roll-ups do not take are named.
    boarded = case_figures(actor=street_operator, filters=_filters(grid, board="city_management"))
    assert boarded["kpis"]["ignored"] == ["board"]


def test_another_area_has_no_kpis(other_grid, grid_worker):
    figures = case_figures(actor=grid_worker, filters=CaseFilters(area=other_grid.code))
    assert figures["kpis"]["area"] is None
    assert figures["on_time_rate"]["accept"] is None
    assert figures["kpis"]["values"]["satisfaction"]["reason"]


def test_the_figures_page_says_where_its_kpis_come_from(client, street_operator, english):
    client.force_login(street_operator)
    page = client.get("/governance/figures/", {"board": "city_management"})
    assert page.status_code == 200
    assert b"KPI roll-ups of the area" in page.content and b"board" in page.content


def test_observed_bundle_metrics_are_the_city_kpis(city):
    from django.utils import timezone

    from zhili.bundles.metrics import OBSERVED_KPIS, observed_metrics

    caught_up()
    observed = observed_metrics()
    end = timezone.localdate() + timedelta(days=1)
    from datetime import date

    rolled = kpi_values_between(list(OBSERVED_KPIS.values()), city.path, date(2000, 1, 1), end)
    for key, code in OBSERVED_KPIS.items():
        assert observed[key] == rolled[code].value, key
    assert {"approved", "rejected", "materials_uploaded", "mean_days_to_complete"} <= set(observed)


def test_the_bundles_monthly_report_reads_the_live_kpis(district):
    from zhili.supervision import periods as P
    from zhili.supervision.reports.builders import report_build

    caught_up()
    start = P.last_complete("month")
    data = report_build("bundles_monthly", district, start)
    if data["empty"]:
        assert "applications" in data["empty_reason"]["en"]
    else:
        labels = [f["label"]["en"] for f in data["figures"]]
        assert "Bundled-service applications" in labels and "Materials saved" in labels
    assert not any("catalogue" in n["en"] for n in data["notes"])
    empty = report_build("bundles_monthly", district, P.period_start("month", DAY.date()))
    assert empty["empty"] and "No bundled-service applications" in empty["empty_reason"]["en"]
