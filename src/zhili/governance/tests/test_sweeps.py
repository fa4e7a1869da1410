"""Time-based behaviour on a controlled clock (no sleeps): the escalation ladder, a sweep
stopped and re-run, auto-close, rating and the reopen window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from zhili.core.errors import Conflict, PermissionDenied
from zhili.governance import services
from zhili.governance.errors import InvalidTransition
from zhili.governance.models import Case, CaseEvent, Level, Status
from zhili.governance.services import escalation
from zhili.notifications.models import Delivery


@pytest.fixture(autouse=True)
def quiet_demo(db):
    """Take the demo's cases off the clocks (inside this test's transaction only), so a
    sweep here touches only the cases the test makes."""
    Case.objects.update(escalate_at=None, reopen_until=None)


def test_overdue_case_climbs_one_rung_per_window(report, street_operator, community,
                                                 district_operator):
    from zhili.accounts.models import User

    case = report(category="gas-smell")  # accept within 10 min, then 30 min per level
    t0 = case.created_at
    assert case.escalate_at == t0 + timedelta(minutes=10)
    assert services.cases_escalate_overdue(now=t0 + timedelta(minutes=9)) == 0
    assert services.cases_escalate_overdue(now=t0 + timedelta(minutes=11)) == 1
    case.refresh_from_db()
    assert (case.current_level, case.highest_level) == (Level.COMMUNITY, Level.COMMUNITY)
    # The community staff were told once, in the app and (priority 1) by SMS.
    community1 = User.objects.get(username="community1")
    told = Delivery.objects.filter(user=community1, message__kind="case.escalated",
                                   message__object_id=str(case.pk))
    assert sorted(told.values_list("channel", flat=True)) == ["inapp", "sms"]
    # Within the level's window nothing more happens; after it, one more rung.
    services.cases_escalate_overdue(now=t0 + timedelta(minutes=30))
    case.refresh_from_db()
    assert case.current_level == Level.COMMUNITY
    services.cases_escalate_overdue(now=t0 + timedelta(minutes=42))
    case.refresh_from_db()
    assert case.current_level == Level.STREET
    assert Delivery.objects.filter(user=street_operator, message__kind="case.escalated",
                                   message__object_id=str(case.pk)).exists()
    for minutes in (73, 104, 135, 500):
        services.cases_escalate_overdue(now=t0 + timedelta(minutes=minutes))
    case.refresh_from_db()
    assert case.current_level == Level.CITY and case.escalate_at is None
    assert list(CaseEvent.objects.filter(case=case, kind="escalated")
                .values_list("data__to", flat=True)) == ["community", "street", "district", "city"]
    # Resolved at the level it had reached; the highest level is kept.
    case = services.case_accept(actor=street_operator, case=case, version=case.version,
                                now=t0 + timedelta(minutes=600))
    case = services.case_resolve(actor=street_operator, case=case, version=case.version,
                                 note="燃气公司已关阀", now=t0 + timedelta(minutes=700))
    assert (case.resolved_level, case.highest_level) == (Level.CITY, Level.CITY)
    assert case.accept_on_time is False


def test_acting_in_time_stops_the_clock(report, grid_worker):
    case = report(category="gas-smell")
    t0 = case.created_at
    services.case_accept(actor=grid_worker, case=case, version=case.version,
                         now=t0 + timedelta(minutes=5))
    services.cases_escalate_overdue(now=t0 + timedelta(minutes=20))
    case.refresh_from_db()
    assert case.current_level == Level.GRID and case.accept_on_time is True
    # The arrive step has its own limit (30 min for gas).
    services.cases_escalate_overdue(now=t0 + timedelta(minutes=36))
    case.refresh_from_db()
    assert case.current_level == Level.COMMUNITY


def test_manual_escalation_beyond_my_capacity(report, grid_worker, street_operator):
    case = report()
    case = services.case_escalate(actor=grid_worker, case=case, version=case.version,
                                  reason="需要街道协调物业")
    assert case.current_level == Level.COMMUNITY
    event = CaseEvent.objects.filter(case=case, kind="escalated").get()
    assert event.data == {"from": "grid", "to": "community", "automatic": False}
    assert event.note == "需要街道协调物业" and event.actor == grid_worker
    with pytest.raises(Exception) as caught:
        services.case_escalate(actor=grid_worker, case=case, version=case.version, reason="")
    assert caught.value.errors[0].field == "reason"


def test_a_sweep_stopped_midway_and_rerun_doubles_nothing(report, monkeypatch):
    cases = [report(category="gas-smell", at=None) for _ in range(4)]
    latest = max(c.escalate_at for c in cases)
    moment = latest + timedelta(minutes=1)
    ids = [c.pk for c in cases]

    # The "worker" dies after two cases: the third case's escalation raises.
    real = escalation.escalate_now
    calls = {"n": 0}

    def dying(case, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")
        return real(case, **kw)

    monkeypatch.setattr(escalation, "escalate_now", dying)
    with pytest.raises(SystemExit):
        services.cases_escalate_overdue(now=moment)
    monkeypatch.setattr(escalation, "escalate_now", real)
    levels = dict(Case.objects.filter(pk__in=ids).values_list("pk", "current_level"))
    assert sorted(levels.values()).count(Level.COMMUNITY) == 2  # two committed, none lost
    # The restarted worker runs the same sweep at the same moment: each case once.
    services.cases_escalate_overdue(now=moment)
    services.cases_escalate_overdue(now=moment)
    assert set(Case.objects.filter(pk__in=ids).values_list("current_level", flat=True)) == \
        {Level.COMMUNITY}
    assert CaseEvent.objects.filter(case_id__in=ids, kind="escalated").count() == 4
    assert Delivery.objects.filter(message__object_id__in=[str(i) for i in ids],
                                   message__kind="case.escalated", channel="inapp").count() == 4


def test_a_case_changed_after_selection_is_skipped(report, grid_worker, monkeypatch):
    case = report(category="gas-smell")
    moment = case.escalate_at + timedelta(minutes=1)
    real_filter_list = list

    # Someone accepts the case between the sweep's selection and its update.
    def accept_then_list(rows):
        out = real_filter_list(rows)
        if out and isinstance(out[0], tuple) and out[0][0] == case.pk:
            services.case_accept(actor=grid_worker, case=case, version=case.version,
                                 now=moment)
        return out

    monkeypatch.setattr(escalation, "list", accept_then_list, raising=False)
    services.cases_escalate_overdue(now=moment)
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.current_level == Level.GRID


def resolved_case(report, grid_worker):
    case = report()
    t0 = case.created_at
    case = services.case_accept(actor=grid_worker, case=case, version=case.version,
                                now=t0 + timedelta(minutes=10))
    return services.case_resolve(actor=grid_worker, case=case, version=case.version, note="已修复",
                                 now=t0 + timedelta(hours=2))


def test_rating_closes_and_only_the_reporter_rates_once(report, grid_worker, resident,
                                                        street_operator):
    case = resolved_case(report, grid_worker)
    assert case.reopen_until == case.resolved_at + timedelta(days=7)
    with pytest.raises(PermissionDenied):
        services.case_rate(actor=street_operator, case=case, rating=5)
    for bad in (0, 6, "5", True, None):
        with pytest.raises(Exception) as caught:
            services.case_rate(actor=resident, case=case, rating=bad)
        assert caught.value.errors[0].field == "rating"
    case = services.case_rate(actor=resident, case=case, rating=4, comment="不错",
                              now=case.resolved_at + timedelta(hours=1))
    assert (case.status, case.outcome, case.rating) == (Status.CLOSED, "fixed", 4)
    with pytest.raises(Conflict):
        services.case_rate(actor=resident, case=case, rating=5)


def test_reopen_window_for_the_reporter(report, grid_worker, resident, street_operator):
    case = resolved_case(report, grid_worker)
    late = case.reopen_until + timedelta(minutes=1)
    with pytest.raises(Conflict):
        services.case_reopen(actor=resident, case=case, version=case.version, reason="又坏了",
                             now=late)
    # Staff may still reopen after the window.
    reopened = services.case_reopen(actor=street_operator, case=case, version=case.version,
                                    reason="回访发现未修复", now=late)
    assert reopened.status == Status.REOPENED and reopened.step == "accept"
    case = services.case_accept(actor=grid_worker, case=reopened, version=reopened.version,
                                now=late + timedelta(minutes=5))
    case = services.case_resolve(actor=grid_worker, case=case, version=case.version,
                                 note="彻底修好", now=late + timedelta(hours=1))
    case = services.case_rate(actor=resident, case=case, rating=5, now=late + timedelta(hours=2))
    # After rating, still reopenable within the window.
    case = services.case_reopen(actor=resident, case=case, version=case.version,
                                reason="还是漏", now=late + timedelta(hours=3))
    assert case.status == Status.REOPENED and case.rating is None


def test_unrated_cases_close_automatically_after_the_window(report, grid_worker):
    case = resolved_case(report, grid_worker)
    assert services.cases_autoclose(now=case.reopen_until - timedelta(minutes=1)) == 0 or \
        Case.objects.get(pk=case.pk).status == Status.RESOLVED
    services.cases_autoclose(now=case.reopen_until + timedelta(minutes=1))
    case.refresh_from_db()
    assert (case.status, case.outcome) == (Status.CLOSED, "fixed")
    event = CaseEvent.objects.filter(case=case, kind="closed").get()
    assert event.data["automatic"] is True and event.actor is None
    # Re-running closes nothing twice.
    services.cases_autoclose(now=case.reopen_until + timedelta(minutes=2))
    assert CaseEvent.objects.filter(case=case, kind="closed").count() == 1


def test_the_sweep_tasks_are_registered_and_run(report):
    from zhili.core import periodic
    from zhili.governance.tasks import cases_autoclose_sweep, cases_escalate_sweep

    periodic.load_all()
    assert cases_escalate_sweep.module_path in periodic.REGISTRY
    assert cases_autoclose_sweep.module_path in periodic.REGISTRY
    with transaction.atomic():
        assert isinstance(cases_escalate_sweep.call(), int)
        assert isinstance(cases_autoclose_sweep.call(), int)


def test_escalating_at_the_top_is_not_allowed(report, street_operator):
    case = report()
    for _ in range(4):
        case = services.case_escalate(actor=street_operator, case=case, version=case.version,
                                      reason="上报")
    assert case.current_level == Level.CITY
    with pytest.raises(InvalidTransition):
        services.case_escalate(actor=street_operator, case=case, version=case.version,
                               reason="上报")
