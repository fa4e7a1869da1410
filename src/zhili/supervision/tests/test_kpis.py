"""Each KPI against a small fixture computed by hand, through the roll-ups."""

from datetime import timedelta

import pytest

from zhili.supervision import rollups
from zhili.supervision.periods import period_start
from zhili.supervision.selectors import kpi_series, kpi_value, kpi_values
from zhili.supervision.tests.conftest import DAY, at, caught_up

MONTH = DAY.date().replace(day=1)


@pytest.fixture
def three_cases(make_case, grid, other_grid):
    closed = {"status": "closed", "resolved_at": at(12)}
    make_case(grid, at(10), accept_on_time=True, arrive_on_time=True, resolve_on_time=True,
              handling_minutes=30, resolved_level="grid", rating=5, dispute_level="court",
              **closed)
    make_case(grid, at(11), accept_on_time=True, arrive_on_time=False, resolve_on_time=False,
              handling_minutes=90, resolved_level="street", highest_level="street", rating=3,
              dispute_level="community", reopened=True, **closed)
    make_case(grid, at(23.5), status="accepted", accept_on_time=False)
    # The next local day, and another street of the same district.
    make_case(grid, at(24.5), status="accepted")
    make_case(other_grid, at(10), status="accepted", accept_on_time=True)


def test_governance_kpis_of_a_grid_day_by_hand(three_cases, grid):
    caught_up()
    v = kpi_values(["governance.cases", "governance.open_cases", "governance.on_time_accept",
                    "governance.on_time_arrive", "governance.on_time_resolve",
                    "governance.median_handling", "governance.resolved_street_or_below",
                    "governance.satisfaction", "governance.reopen_rate", "governance.escalated",
                    "governance.disputes", "governance.disputes_street_or_below",
                    "governance.dispute_levels"], grid.path, "day", DAY.date())
    got = {code: kv.value for code, kv in v.items()}
    assert got == {
        "governance.cases": 3, "governance.open_cases": 1,
        "governance.on_time_accept": round(2 / 3, 4), "governance.on_time_arrive": 0.5,
        "governance.on_time_resolve": 0.5,
        "governance.median_handling": 90,  # of 30 and 90, the upper middle (index n // 2)
        "governance.resolved_street_or_below": 1.0, "governance.satisfaction": 4.0,
        "governance.reopen_rate": 0.5, "governance.escalated": 1, "governance.disputes": 2,
        "governance.disputes_street_or_below": 0.5,
        "governance.dispute_levels": {"grid": 0.0, "community": 0.5, "street": 0.0,
                                      "district": 0.0, "city": 0.0, "court": 0.5,
                                      "arbitration": 0.0},
    }


def test_areas_and_periods_sum_up(three_cases, grid, street, district, other_street):
    caught_up()
    assert kpi_value("governance.cases", grid.path, "day", DAY.date()).value == 3
    assert kpi_value("governance.cases", street.path, "month", MONTH).value == 4
    assert kpi_value("governance.cases", other_street.path, "month", MONTH).value == 1
    assert kpi_value("governance.cases", district.path, "month", MONTH).value == 5
    week = period_start("week", DAY.date())
    assert kpi_value("governance.on_time_accept", district.path, "week", week).value == 0.75
    series = kpi_series("governance.cases", street.path, "day",
                        [DAY.date() + timedelta(days=i) for i in range(3)])
    assert [s.value for s in series] == [3, 1, 0]


def test_a_kpi_that_cannot_be_computed_says_why(db, grid, settings):
    settings.LANGUAGE_CODE = "en"
    v = kpi_value("governance.satisfaction", grid.path, "day", DAY.date())
    assert v.value is None and v.reason == "no case was rated"
    assert kpi_value("governance.cases", grid.path, "day", DAY.date()).value == 0


def test_a_later_change_updates_the_roll_up(three_cases, grid, make_case):
    from zhili.governance.events import event_add
    from zhili.governance.models import Case

    caught_up()
    case = Case.objects.get(area_path=grid.path, created_at=at(23.5))
    Case.objects.filter(pk=case.pk).update(status="closed", rating=1)
    event_add(case=case, kind="rated", at=at(30))
    assert caught_up() == 1
    assert kpi_value("governance.satisfaction", grid.path, "day", DAY.date()).value == 3.0
    assert kpi_value("governance.open_cases", grid.path, "day", DAY.date()).value == 0


def test_bundles_kpis_by_hand(db, grid, resident):
    from zhili.bundles.models import Application, Attachment, Bundle, Event, Task

    bundle = Bundle.objects.filter(published=True).first()
    matters = [item.matter for item in bundle.items.select_related("matter")[:2]]
    separate = sum(m.materials.count() for m in matters)
    app = Application.objects.create(
        reference="KPI-T-1", bundle=bundle, applicant=resident, idempotency_key="kpitest01",
        area_path=grid.path, submitted_at=at(9), completed_at=at(9, days=2), status="completed")
    Application.objects.create(
        reference="KPI-T-2", bundle=bundle, applicant=resident, idempotency_key="kpitest02",
        area_path=grid.path, submitted_at=at(15))
    for i, m in enumerate(matters):
        Task.objects.create(application=app, matter=m, department=m.department,
                            status="approved", area_path=grid.path,
                            overdue_flagged_at=at(12) if i == 0 else None)
    material = matters[0].materials.first()
    if material is not None:
        Attachment.objects.create(owner=resident, application=app, material=material,
                                  sha256="0" * 64, size=10)
    Event.objects.create(application=app, kind="submitted", at=at(9))
    caught_up()
    v = {c: kv.value for c, kv in kpi_values(
        ["bundles.applications", "bundles.completed", "bundles.materials_saved",
         "bundles.time_saved", "bundles.online_share", "bundles.overdue"],
        grid.path, "day", DAY.date()).items()}
    promised = sum(m.promised_days for m in matters)
    uploaded = 1 if material is not None else 0
    assert v["bundles.applications"] == 2
    assert v["bundles.completed"] == 1
    assert v["bundles.overdue"] == 1
    assert v["bundles.online_share"] == round(sum(m.online for m in matters) / len(matters), 4)
    assert v["bundles.time_saved"] == round(1 - 2 / (promised * 7 / 5), 4)
    assert v["bundles.materials_saved"] == (round(1 - uploaded / separate, 4) if separate
                                            else None)


def test_warning_kpis_by_hand(db):
    from zhili.warning import events
    from zhili.warning.models import RiskPoint
    from zhili.warning.services import warning_raise

    point = RiskPoint.objects.first()
    w1 = warning_raise(risk_point=point, level=1, source="operator", condition="kpi:1", at=at(8))
    warning_raise(risk_point=point, level=1, source="operator", condition="kpi:2", at=at(9))
    events.event_add(warning=w1, kind="escalated", at=at(8.1))
    events.event_add(warning=w1, kind="acknowledged", at=at(8 + 10 / 60))
    events.event_add(warning=w1, kind="acknowledged", at=at(9))  # only the first counts
    caught_up()
    v = {c: kv.value for c, kv in kpi_values(
        ["warning.raised", "warning.ack_rate", "warning.ack_minutes", "warning.escalations",
         "warning.red_orange"], point.area_path, "day", DAY.date()).items()}
    assert v == {"warning.raised": 2, "warning.ack_rate": 0.5, "warning.ack_minutes": 10.0,
                 "warning.escalations": 1, "warning.red_orange": 0}


def test_rebuild_equals_the_incremental_roll_up(three_cases):
    caught_up()
    before = rollups.stored_components("governance.cases")
    rollups.rebuild(["governance.cases"])
    assert rollups.stored_components("governance.cases") == before
