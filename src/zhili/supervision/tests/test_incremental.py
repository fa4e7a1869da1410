"""Incremental roll-ups equal a full recomputation after any sequence of changes."""

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhili.supervision import rollups
from zhili.supervision.tests.conftest import at, caught_up

# Examples share the database (no rollback between them): conditions stay unique.
UNIQUE = itertools.count()
STEPS = st.lists(st.tuples(
    st.sampled_from(["case", "close", "rate", "reopen", "dispute", "application", "complete",
                     "warning", "acknowledge", "poll"]),
    st.integers(0, 3),    # which area
    st.integers(0, 40),   # hours after the test day's start
    st.integers(0, 1000),  # a free number (a rating, a pick among earlier rows)
), min_size=1, max_size=14)


def _check_all_sources():
    caught_up()
    for name in rollups.sources():
        full = {k: v for k, v in rollups.full_components(name).items() if v}
        assert rollups.stored_components(name) == full, name
        # The rebuild (set-based on PostgreSQL) lands on the same cells.
        rollups.rebuild([name])
        assert rollups.stored_components(name) == full, name


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=STEPS)
def test_incremental_equals_full(make_case, grid, other_grid, community, resident, steps):
    from zhili.bundles.models import Application, Bundle, Event
    from zhili.governance.events import event_add
    from zhili.governance.models import Case, Dispute
    from zhili.warning import events as warning_events
    from zhili.warning.models import RiskPoint
    from zhili.warning.services import warning_raise

    areas = [grid, other_grid, grid, other_grid]
    app_areas = [grid.path, community.path, other_grid.path, community.path]
    bundle = Bundle.objects.filter(published=True).first()
    point = RiskPoint.objects.first()
    cases, apps, warnings = [], [], []
    for kind, area, hours, n in steps:
        when = at(hours)
        if kind == "case" or (not cases and kind in ("close", "rate", "reopen", "dispute")):
            cases.append(make_case(areas[area], when, status="accepted"))
        elif kind == "close":
            case = cases[n % len(cases)]
            Case.objects.filter(pk=case.pk).update(
                status="closed", resolved_at=when + timedelta(hours=1),
                handling_minutes=n * 7, resolved_level=["grid", "street", "district"][n % 3],
                resolve_on_time=bool(n % 2))
            event_add(case=case, kind="closed", at=when)
        elif kind == "rate":
            case = cases[n % len(cases)]
            Case.objects.filter(pk=case.pk).update(rating=1 + n % 5)
            event_add(case=case, kind="rated", at=when)
        elif kind == "reopen":
            case = cases[n % len(cases)]
            Case.objects.filter(pk=case.pk).update(status="reopened")
            event_add(case=case, kind="reopened", at=when)
        elif kind == "dispute":
            case = cases[n % len(cases)]
            Dispute.objects.update_or_create(case=case, defaults={
                "dispute_type": "neighbour",
                "resolution_level": ["", "grid", "community", "court"][n % 4]})
            event_add(case=case, kind="dispute_resolved", at=when)
        elif kind == "application" or (not apps and kind == "complete"):
            app = Application.objects.create(
                reference=f"KPI-H-{next(UNIQUE)}", bundle=bundle,
                applicant=resident, idempotency_key=f"kpihyp-{next(UNIQUE)}",
                area_path=app_areas[area], submitted_at=when)
            Event.objects.create(application=app, kind="submitted", at=when)
            apps.append(app)
        elif kind == "complete":
            app = apps[n % len(apps)]
            Application.objects.filter(pk=app.pk).update(
                completed_at=app.submitted_at + timedelta(hours=n), status="completed")
            Event.objects.create(application=app, kind="completed", at=when)
        elif kind == "warning" or (not warnings and kind == "acknowledge"):
            warnings.append(warning_raise(risk_point=point, level=1, source="operator",
                                          condition=f"kpi-h:{next(UNIQUE)}", at=when))
        elif kind == "acknowledge":
            warning = warnings[n % len(warnings)]
            warning_events.event_add(warning=warning, kind="acknowledged",
                                     at=warning.raised_at + timedelta(minutes=n))
        elif kind == "poll":
            rollups.poll_source(list(rollups.sources())[n % len(rollups.sources())], limit=1 + n % 3)
    _check_all_sources()
