from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from zhili.supervision import rollups

ZONE = ZoneInfo("Asia/Shanghai")
DAY = datetime(2031, 3, 4, tzinfo=ZONE)  # far after the demo data: only a test's rows


@pytest.fixture(autouse=True)
def _no_gap_wait(settings):
    # Test transactions roll back, leaving id gaps that no open transaction will fill.
    settings.ZHILI_ROLLUP_GAP_WAIT = 0


def caught_up() -> int:
    total = 0
    while (n := rollups.poll_all()):
        total += n
    return total


def at(hours: float = 10, days: int = 0) -> datetime:
    return DAY + timedelta(days=days, hours=hours)


@pytest.fixture
def make_case(db, resident):
    """make_case(grid, created_at, **fields) -> a case reported through the service, then
    put in the state the test needs (fields set directly) with one event marking it."""
    from zhili.governance.events import event_add
    from zhili.governance.models import Case
    from zhili.governance.services import case_report

    counter = {"n": 0}

    def make(grid, created_at, *, dispute_level=None, reopened=False, **fields):
        counter["n"] += 1
        case, _ = case_report(actor=resident, category="road-damage", attributes={"size": "small"},
                              description=f"kpi case {counter['n']}", lon=grid.centre_lon,
                              lat=grid.centre_lat, now=created_at - timedelta(days=900 + counter["n"] * 3))
        Case.objects.filter(pk=case.pk).update(created_at=created_at, **fields)
        case.refresh_from_db()
        if dispute_level is not None:
            from zhili.governance.models import Dispute

            Dispute.objects.create(case=case, dispute_type="neighbour",
                                   resolution_level=dispute_level)
            Case.objects.filter(pk=case.pk).update(is_dispute=True)
        if reopened:
            event_add(case=case, kind="reopened", at=created_at)
        event_add(case=case, kind="closed", at=created_at)
        return case

    return make


@pytest.fixture
def problem(street, street_operator):
    """A problem on the street's grid-governance list, owned by the street."""
    from zhili.supervision.problems.services import problem_raise

    return problem_raise(actor=street_operator, list_type="grid_weekly",
                         title="巡查记录缺失", area=street.code,
                         deadline=timezone.localdate() + timedelta(days=7))


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Report files and evidence go to the test's own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
