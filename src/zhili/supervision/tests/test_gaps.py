"""The poller's id gaps: each gap is waited for from when it is first seen."""

from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone

from zhili.supervision.rollups import _contiguous


def cursor(last_id, gap_since=None):
    return SimpleNamespace(last_id=last_id, gap_since=gap_since)


def test_a_gap_is_waited_for_then_skipped(settings):
    settings.ZHILI_ROLLUP_GAP_WAIT = 30
    now = timezone.now()
    c = cursor(10)
    assert _contiguous(c, [12, 13], now) == 0 and c.gap_since == now
    assert _contiguous(c, [12, 13], now + timedelta(seconds=29)) == 0
    assert _contiguous(c, [12, 13], now + timedelta(seconds=31)) == 2
    assert c.gap_since is None


def test_a_later_gap_does_not_inherit_the_earlier_gaps_timer(settings):
    settings.ZHILI_ROLLUP_GAP_WAIT = 30
    now = timezone.now()
    c = cursor(10)
    assert _contiguous(c, [12], now) == 0  # 11 is missing: timed from now
    # 40 s later 11 has come, but 13 is missing: 11 and 12 are taken, 13 is
    # waited for from now on (its transaction may still be open), not skipped.
    later = now + timedelta(seconds=40)
    assert _contiguous(c, [11, 12, 14], later) == 2
    assert c.gap_since == later
    c.last_id = 12
    assert _contiguous(c, [14], later + timedelta(seconds=5)) == 0
    assert _contiguous(c, [13, 14], later + timedelta(seconds=6)) == 2
    assert c.gap_since is None


def test_without_a_wait_gaps_are_skipped(settings):
    settings.ZHILI_ROLLUP_GAP_WAIT = 0
    assert _contiguous(cursor(10), [12, 15], timezone.now()) == 2


def test_the_worker_rolls_a_source_up_at_most_every_interval(make_case, grid, settings):
    from zhili.supervision import rollups
    from zhili.supervision.models import RollupCursor
    from zhili.supervision.tasks import rollups_poll
    from zhili.supervision.tests.conftest import at

    settings.ZHILI_ROLLUP_INTERVAL = 60
    assert rollups.interval() == timedelta(seconds=60)
    rollups.poll_all()  # what seeding the city left
    RollupCursor.objects.update(updated_at=timezone.now() - timedelta(seconds=61))
    make_case(grid, at())
    assert rollups_poll() > 0
    make_case(grid, at(11))
    assert rollups_poll() == 0  # within the interval of the last poll that took events
    assert rollups.poll_all() > 0  # `zhili supervision poll` does not wait
    RollupCursor.objects.update(updated_at=timezone.now() - timedelta(seconds=61))
    make_case(grid, at(12))
    assert rollups_poll() > 0
