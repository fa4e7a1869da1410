from datetime import date

import pytest

from zhili.core.errors import NotFound, ValidationFailed
from zhili.supervision import rollups
from zhili.supervision.selectors import kpi_registry, kpi_value


def test_registry_holds_every_apps_kpis_with_their_declaration():
    codes = {k.code for k in kpi_registry()}
    assert {"governance.cases", "governance.on_time_resolve",
            "supervision.rescue_coverage"} <= codes
    for kpi in kpi_registry():
        assert kpi.code.split(".")[0] in {"governance", "bundles", "warning", "supervision"}
        assert str(kpi.name) and str(kpi.formula) and kpi.unit and kpi.reads
        assert kpi.better in {"higher", "lower", "neither"}
        assert (kpi.value is None) != (kpi.direct is None)


def test_rescue_coverage_says_why_it_is_not_computed(db, district, settings):
    from zhili.emergency.models import CoverageRun

    CoverageRun.objects.all().delete()  # no rescue circles computed yet
    settings.LANGUAGE_CODE = "en"
    v = kpi_value("supervision.rescue_coverage", district.path, "month", date(2026, 1, 1))
    assert v.value is None
    assert "rescue-circle" in v.reason
    v = kpi_value("supervision.rescue_population_coverage", district.path, "month",
                  date(2026, 1, 1))
    assert v.value is None and "rescue-circle" in v.reason


def test_unknown_kpi_and_bad_period_are_refused(db, district):
    with pytest.raises(ValidationFailed):
        kpi_value("governance.nope", district.path, "month", date(2026, 1, 1))
    with pytest.raises(ValidationFailed):
        kpi_value("governance.cases", district.path, "month", date(2026, 1, 2))
    with pytest.raises(ValidationFailed):
        kpi_value("governance.cases", district.path, "year", date(2026, 1, 1))


def test_outside_the_viewers_area_is_not_found(db, street, other_street_operator):
    with pytest.raises(NotFound):
        kpi_value("governance.cases", street.path, "month", date(2026, 1, 1),
                  actor=other_street_operator)


def test_demo_cases_roll_up_to_the_full_recomputation(db):
    while rollups.poll_all():
        pass
    for name in rollups.sources():
        assert rollups.stored_components(name) == {
            k: v for k, v in ((k, +v) for k, v in rollups.full_components(name).items()) if v}
