"""Every transition from every state: allowed, not allowed (409 invalid-transition),
stale version (409 conflict), outside the actor's area (404), no role (403/404)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from zhili.core.errors import Conflict, NotFound, PermissionDenied
from zhili.governance import services
from zhili.governance.errors import InvalidTransition, StaleVersion
from zhili.governance.models import CaseEvent, Status

S = Status
OPEN = {S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.ON_SITE, S.REOPENED}
ALLOWED = {
    "accept": {S.REPORTED, S.REOPENED},
    "arrive": {S.ACCEPTED, S.DISPATCHED},
    "resolve": {S.ACCEPTED, S.ON_SITE, S.DISPATCHED},
    "verify": {S.RESOLVED},
    "close_fixed": {S.RESOLVED, S.VERIFIED},
    "close_not_fixed": OPEN | {S.RESOLVED, S.VERIFIED},
    "reopen": {S.RESOLVED, S.VERIFIED, S.CLOSED},
    "reject": {S.REPORTED, S.ACCEPTED, S.REOPENED},
    "escalate": OPEN,
    "dispatch": {S.REPORTED, S.ACCEPTED, S.ON_SITE, S.REOPENED, S.DISPATCHED},
    "assign": {S.REPORTED, S.REOPENED, S.ACCEPTED, S.ON_SITE},
}
RESULT = {"accept": S.ACCEPTED, "arrive": S.ON_SITE, "resolve": S.RESOLVED, "verify": S.VERIFIED,
          "close_fixed": S.CLOSED, "close_not_fixed": S.CLOSED, "reopen": S.REOPENED,
          "reject": S.REJECTED, "dispatch": S.DISPATCHED}


def act(action, *, actor, case, version, worker=None, at=None):
    kw = {"actor": actor, "case": case, "version": version, "now": at}
    if action == "accept":
        return services.case_accept(**kw)
    if action == "arrive":
        return services.case_arrive(**kw)
    if action == "resolve":
        return services.case_resolve(note="修好了", **kw)
    if action == "verify":
        return services.case_verify(**kw)
    if action == "close_fixed":
        return services.case_close(outcome="fixed", **kw)
    if action == "close_not_fixed":
        return services.case_close(outcome="not_fixed", note="无法整改", **kw)
    if action == "reopen":
        return services.case_reopen(reason="又坏了", **kw)
    if action == "reject":
        return services.case_reject(reason="不属实", **kw)
    if action == "escalate":
        return services.case_escalate(reason="超出能力", **kw)
    if action == "dispatch":
        return services.case_dispatch_departments(lead="transport", **kw)
    if action == "assign":
        return services.case_assign(assignee=worker, **kw)
    raise AssertionError(action)


def case_in(state, *, report, operator, now):
    """A case brought to `state` by the real services (as the street operator)."""
    case = report()
    t = case.created_at
    step = iter(range(1, 100))

    def go(action):
        return act(action, actor=operator, case=case, version=case.version,
                   at=t + timedelta(minutes=next(step)))

    path = {
        S.REPORTED: [], S.ACCEPTED: ["accept"], S.ON_SITE: ["accept", "arrive"],
        S.DISPATCHED: ["accept", "dispatch"], S.RESOLVED: ["accept", "resolve"],
        S.VERIFIED: ["accept", "resolve", "verify"],
        S.CLOSED: ["accept", "resolve", "close_fixed"],
        S.REOPENED: ["accept", "resolve", "reopen"], S.REJECTED: ["reject"],
    }[state]
    for action in path:
        case = go(action)
    assert case.status == state
    return case


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("action", list(ALLOWED))
def test_transition_matrix(action, state, report, street_operator, grid_worker, now):
    case = case_in(state, report=report, operator=street_operator, now=now)
    before = CaseEvent.objects.filter(case=case).count()
    at = case.updated_at + timedelta(minutes=30)
    if state in ALLOWED[action]:
        result = act(action, actor=street_operator, case=case, version=case.version,
                     worker=grid_worker, at=at)
        assert result.version > case.version
        if action in RESULT:
            assert result.status == RESULT[action]
        assert CaseEvent.objects.filter(case=case).count() > before
    else:
        with pytest.raises(InvalidTransition) as caught:
            act(action, actor=street_operator, case=case, version=case.version,
                worker=grid_worker, at=at)
        assert caught.value.status == 409 and caught.value.code == "invalid-transition"
        case.refresh_from_db()
        assert case.status == state
        assert CaseEvent.objects.filter(case=case).count() == before


@pytest.mark.parametrize("action", list(ALLOWED))
def test_stale_version_is_409_and_writes_nothing(action, report, street_operator, grid_worker):
    case = case_in(S.ACCEPTED, report=report, operator=street_operator, now=None)
    before = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(StaleVersion) as caught:
        act(action, actor=street_operator, case=case, version=case.version - 1, worker=grid_worker)
    assert isinstance(caught.value, Conflict) and caught.value.status == 409
    assert CaseEvent.objects.filter(case=case).count() == before


@pytest.mark.parametrize("action", list(ALLOWED))
def test_another_area_gets_404(action, report, street_operator, other_street_operator,
                               other_grid_worker, grid_worker):
    case = case_in(S.ACCEPTED, report=report, operator=street_operator, now=None)
    for outsider in (other_street_operator, other_grid_worker):
        with pytest.raises(NotFound):
            act(action, actor=outsider, case=case, version=case.version, worker=grid_worker)


def test_without_the_role_403_if_visible_else_404(report, resident, grid_worker, street_operator,
                                                  django_user_model):
    case = report()
    # The reporter may see it but not accept it.
    with pytest.raises(PermissionDenied):
        services.case_accept(actor=resident, case=case, version=case.version)
    # A grid worker may not verify (a manager's step): 403, it is their case to see.
    case = services.case_accept(actor=grid_worker, case=case, version=case.version)
    case = services.case_resolve(actor=grid_worker, case=case, version=case.version, note="ok")
    with pytest.raises(PermissionDenied):
        services.case_verify(actor=grid_worker, case=case, version=case.version)
    # Someone with no role and no link to the case: the same 404 as a missing case.
    stranger = django_user_model.objects.create(username="stranger")
    with pytest.raises(NotFound):
        services.case_verify(actor=stranger, case=case, version=case.version)
    with pytest.raises(NotFound):
        services.case_accept(actor=None, case=case, version=case.version)


def test_concurrent_writers_second_gets_409(report, grid_worker, street_operator):
    case = report()
    seen = case.version
    services.case_accept(actor=grid_worker, case=case, version=seen)
    with pytest.raises(StaleVersion):
        services.case_reject(actor=street_operator, case=case, version=seen, reason="重复")
    case.refresh_from_db()
    assert case.status == S.ACCEPTED and case.reject_reason == ""


def test_version_none_skips_the_check(report, grid_worker):
    case = report()
    case = services.case_accept(actor=grid_worker, case=case, version=None)
    assert case.status == S.ACCEPTED


def test_closed_not_fixed_is_kept_apart_from_fixed(report, street_operator, grid_worker):
    fixed = case_in(S.RESOLVED, report=report, operator=street_operator, now=None)
    fixed = services.case_close(actor=street_operator, case=fixed, version=fixed.version,
                                outcome="fixed")
    other = report()
    with pytest.raises(Exception) as caught:
        services.case_close(actor=street_operator, case=other, version=other.version,
                            outcome="not_fixed")
    assert getattr(caught.value, "errors", None)[0].field == "note"
    other = services.case_close(actor=street_operator, case=other, version=other.version,
                                outcome="not_fixed", note="产权人拒绝")
    assert (fixed.status, fixed.outcome) == (S.CLOSED, "fixed")
    assert (other.status, other.outcome) == (S.CLOSED, "not_fixed")
    # A worker may resolve without a fix; the close keeps it "not fixed".
    third = services.case_accept(actor=grid_worker, case=report(), version=None)
    third = services.case_resolve(actor=grid_worker, case=third, version=third.version,
                                  note="已尽力", fixed=False)
    assert third.outcome == "not_fixed"


def test_assign_needs_a_worker_of_the_grid(report, street_operator, other_grid_worker,
                                           grid_worker):
    case = report()
    with pytest.raises(Exception) as caught:
        services.case_assign(actor=street_operator, case=case, version=case.version,
                             assignee=other_grid_worker)
    assert caught.value.errors[0].field == "assignee"
    case = services.case_assign(actor=street_operator, case=case, version=case.version,
                                assignee=grid_worker)
    assert case.assignee == grid_worker and case.status == S.REPORTED
