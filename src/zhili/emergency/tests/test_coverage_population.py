"""Population coverage of the rescue circles: the people in the grids inside each
class's circle, against a brute-force sum over the stored grid times."""

import pytest

from zhili.emergency import selectors
from zhili.emergency.coverage import coverage_compute
from zhili.emergency.models import CLASSES, GridCoverage
from zhili.geo.models import AreaNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(db):
    return coverage_compute(reason="test")


def brute_force(run, path: str) -> dict:
    """Sum the populations of the grids under `path` in Python, grid by grid."""
    population = dict(AreaNode.objects.filter(level="grid").values_list("id", "population"))
    rows = [r for r in GridCoverage.objects.filter(run=run) if r.area_path.startswith(path)]
    known = [r for r in rows if population[r.grid_id] is not None]

    def inside(row, cls):
        seconds = getattr(row, f"{cls}_s")
        return seconds is not None and seconds <= run.targets[cls]

    total = sum(population[r.grid_id] for r in known)
    return {"total": total, "grids": len(rows), "unknown": len(rows) - len(known),
            "every": sum(population[r.grid_id] for r in known
                         if all(inside(r, c) for c in CLASSES)),
            **{cls: sum(population[r.grid_id] for r in known if inside(r, cls))
               for cls in CLASSES}}


def assert_matches(population: dict, expected: dict) -> None:
    total = expected["total"]
    assert population["total"] == total > 0
    assert population["covered"] == expected["every"]
    assert population["share"] == round(expected["every"] / total, 4)
    for cls in CLASSES:
        assert population["classes"][cls]["covered"] == expected[cls]
        assert population["classes"][cls]["share"] == round(expected[cls] / total, 4)
    assert population["grids"] == expected["grids"]
    assert population["grids_without_figure"] == expected["unknown"]


def test_the_summary_counts_the_people_inside_each_circle(run, district, street):
    for area in (district, street):
        summary = selectors.coverage_summary(area.path)
        assert_matches(summary["population"], brute_force(run, area.path))
        assert summary["population"]["synthetic"] and summary["population_note"] == ""
    # Some people outside some circle, or the figures would prove little.
    shares = selectors.coverage_summary(district.path)["population"]["classes"]
    assert any(0 < shares[c]["share"] < 1 for c in CLASSES)


def test_the_table_per_district_and_street_matches_the_brute_force(run, district_operator):
    table = selectors.coverage_table(actor=district_operator)
    assert table["rows"]
    for row in table["rows"]:
        assert_matches(row["population"], brute_force(run, row["path"]))
    streets = [r for r in table["rows"] if r["level"] == "street"]
    districts = [r for r in table["rows"] if r["level"] == "district"]
    for d in districts:
        assert d["population"]["total"] == sum(s["population"]["total"] for s in streets
                                               if s["path"].startswith(d["path"]))
    assert table["population"]["total"] == sum(d["population"]["total"] for d in districts)


def test_grids_without_a_figure_are_left_out_and_counted(run, district, street):
    some = list(AreaNode.objects.filter(level="grid", path__startswith=street.path)
                .order_by("code").values_list("pk", flat=True)[:7])
    AreaNode.objects.filter(pk__in=some).update(population=None)
    summary = selectors.coverage_summary(district.path)
    expected = brute_force(run, district.path)
    assert expected["unknown"] == 7
    assert_matches(summary["population"], expected)
    assert summary["population_note"].startswith("7 of ") and "left out" in summary["population_note"]


def test_no_figure_at_all_says_so(run, district, district_operator):
    AreaNode.objects.filter(level="grid").update(population=None)
    summary = selectors.coverage_summary(district.path)
    assert summary["population"] is None and "not known" in summary["population_note"]
    assert summary["share"] is not None or summary["points"] == 0  # risk points still counted
    table = selectors.coverage_table(actor=district_operator)
    assert table["population"] is None and "not known" in table["population_note"]
    assert all(r["population"] is None and r["points"] for r in table["rows"])


def test_no_run_yet_keeps_its_note(db, district):
    from zhili.emergency.models import CoverageRun

    CoverageRun.objects.all().delete()
    summary = selectors.coverage_summary(district.path)
    assert summary["run"] is None and summary["population"] is None
    assert summary["population_note"] == "no coverage run yet"


def test_the_page_shows_the_population_shares_in_both_languages(client, run,
                                                                  district_operator):
    client.force_login(district_operator)
    table = selectors.coverage_table(actor=district_operator)
    first = table["rows"][0]["population"]["classes"]["air"]["share"]
    english = client.get("/emergency/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{first * 100:.0f}% of residents" in english
    assert "Residents" in english and "synthetic (demo)" in english
    chinese = client.get("/emergency/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "people-share" in chinese


def test_the_page_without_figures_says_not_known(client, run, district_operator):
    AreaNode.objects.filter(level="grid").update(population=None)
    client.force_login(district_operator)
    text = client.get("/emergency/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "not known" in text and "of residents" not in text


def test_the_api_and_openapi_give_the_real_fields(client, run, district_operator):
    client.force_login(district_operator)
    body = client.get("/api/v1/emergency/coverage").json()
    assert body["population"]["total"] > 0 and body["population_note"] == ""
    row = body["rows"][0]
    assert set(row["population"]) >= {"total", "covered", "share", "classes", "grids",
                                      "grids_without_figure", "synthetic"}
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert set(schema["PopulationOut"]["properties"]) >= {"total", "covered", "share", "classes",
                                                          "grids_without_figure"}
    assert "population_note" in schema["CoverageOut"]["properties"]


def test_the_summary_and_table_query_counts_are_pinned(run, district, district_operator,
                                                       django_assert_num_queries):
    selectors.coverage_table(actor=district_operator)  # warm the actor's role cache
    with django_assert_num_queries(3):  # the run, the risk points, the grids
        selectors.coverage_summary(district.path)
    with django_assert_num_queries(4):  # the run, risk points per street, grids per street, names
        selectors.coverage_table(actor=district_operator)


def test_supervision_reads_the_population_share(run, district, settings):
    from datetime import date

    from zhili.supervision.selectors import kpi_value

    settings.LANGUAGE_CODE = "en"
    code = "supervision.rescue_population_coverage"
    share = selectors.coverage_summary(district.path)["population"]["share"]
    v = kpi_value(code, district.path, "month", date(2026, 1, 1))
    assert (v.value, v.reason) == (share, "")
    AreaNode.objects.filter(level="grid").update(population=None)
    v = kpi_value(code, district.path, "month", date(2026, 1, 1))
    assert v.value is None and "population figure" in v.reason
