"""Disputes: parties from the registry, mediation sessions, the settling level, and the
share settled at street level or below."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from zhili.core.errors import NotFound, ValidationFailed
from zhili.governance import services
from zhili.governance.figures import case_figures
from zhili.governance.models import Case, Dispute, Level, ResolutionLevel, Status
from zhili.registry.models import Person


def persons_of(actor, n=2):
    return list(Person.objects.restrict(actor, "registry.view_person").order_by("id")[:n])


def record(actor, grid, *, category="dispute-neighbour", parties=None):
    a, b = persons_of(actor)
    return services.dispute_record(
        actor=actor, category=category, description="楼上漏水", lon=grid.centre_lon,
        lat=grid.centre_lat,
        parties=parties or [{"person_id": a.pk, "side": "applicant"},
                            {"person_id": b.pk, "side": "respondent"}])


def test_record_mediate_resolve(categories, grid, grid_worker):
    dispute = record(grid_worker, grid)
    case = dispute.case
    assert case.is_dispute and case.status == Status.ACCEPTED and case.assignee == grid_worker
    assert dispute.dispute_type == "neighbour" and dispute.parties.count() == 2
    held = timezone.now() - timedelta(hours=2)
    services.mediation_record(actor=grid_worker, dispute=dispute, held_at=held, level="grid",
                              result="partial", notes="第一次调解")
    services.dispute_resolve(actor=grid_worker, dispute=dispute, level="grid",
                             agreement="楼上负责维修并赔偿")
    dispute.refresh_from_db()
    case.refresh_from_db()
    assert dispute.resolution_level == "grid" and dispute.resolved_at
    assert case.status == Status.RESOLVED and case.resolved_level == Level.GRID
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == ["dispute_recorded", "mediation", "dispute_resolved", "resolved"]
    with pytest.raises(ValidationFailed):
        services.dispute_resolve(actor=grid_worker, dispute=dispute, level="street")


def test_court_or_arbitration_is_a_resolution_level(categories, grid, street_operator):
    dispute = record(street_operator, grid, category="dispute-labour")
    services.dispute_resolve(actor=street_operator, dispute=dispute, level="arbitration",
                             agreement="转劳动仲裁")
    dispute.refresh_from_db()
    assert dispute.resolution_level == ResolutionLevel.ARBITRATION
    assert dispute.case.current_level == Level.STREET  # recorded by the street centre


def test_bad_dispute_input(categories, grid, grid_worker, other_grid_worker):
    a, b = persons_of(grid_worker)
    stranger = persons_of(other_grid_worker, 1)[0]
    base = dict(actor=grid_worker, category="dispute-neighbour", description="x",
                lon=grid.centre_lon, lat=grid.centre_lat)
    bad = [
        ({"parties": []}, "parties"),
        ({"parties": [{"person_id": a.pk, "side": "judge"}]}, "parties.0.side"),
        ({"parties": [{"person_id": "x", "side": "applicant"}]}, "parties.0.person_id"),
        ({"parties": [{"person_id": stranger.pk, "side": "applicant"}]}, "parties.0.person_id"),
        ({"parties": [{"person_id": a.pk, "side": "applicant"},
                      {"person_id": a.pk, "side": "respondent"}]}, "parties"),
        ({"category": "garbage", "parties": [{"person_id": a.pk, "side": "applicant"}]},
         "category"),
    ]
    before = Case.objects.count()
    for change, field in bad:
        with pytest.raises(ValidationFailed) as caught:
            services.dispute_record(**{**base, **change})
        assert caught.value.errors[0].field == field, change
    assert Case.objects.count() == before
    dispute = record(grid_worker, grid)
    for change, field in [({"level": "moon"}, "level"), ({"result": "won"}, "result"),
                          ({"held_at": timezone.now() + timedelta(days=2)}, "held_at")]:
        kwargs = {"held_at": timezone.now(), "level": "grid", "result": "agreed", **change}
        with pytest.raises(ValidationFailed) as caught:
            services.mediation_record(actor=grid_worker, dispute=dispute, **kwargs)
        assert caught.value.errors[0].field == field
    # Another area's worker cannot mediate it.
    with pytest.raises(NotFound):
        services.mediation_record(actor=other_grid_worker, dispute=dispute,
                                  held_at=timezone.now(), level="grid", result="agreed")


def test_share_settled_at_street_or_below(categories, grid, street, street_operator):
    # Only this test's disputes: filter the figures by a date range after the demo's.
    start = timezone.now() - timedelta(minutes=1)
    levels = ["grid", "grid", "community", "street", "district", "court", "grid", "street"]
    for level in levels:
        dispute = record(street_operator, grid)
        services.dispute_resolve(actor=street_operator, dispute=dispute, level=level)
    record(street_operator, grid)  # still open: not counted in the share
    from zhili.governance.selectors import CaseFilters

    figures = case_figures(actor=street_operator,
                           filters=CaseFilters(created_from=start, is_dispute=True))
    d = figures["disputes"]
    assert (d["total"], d["resolved"], d["resolved_at_street_or_below"]) == (9, 8, 6)
    # The share itself is the KPI's, read from the roll-ups for whole days (supervision's
    # tests/test_figures_from_rollups.py); these counts are this test's disputes only.
    assert d["resolved_at_street_or_below"] / d["resolved"] == pytest.approx(6 / 8, abs=1e-4)
    assert d["by_level"]["court"] == 1
    assert Dispute.objects.filter(case__created_at__gte=start).count() == 9
