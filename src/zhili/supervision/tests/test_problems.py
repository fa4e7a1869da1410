from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhili.core.errors import NotFound, ValidationFailed
from zhili.supervision.errors import InvalidTransition
from zhili.supervision.models import Problem, ProblemRule
from zhili.supervision.problems import services as svc
from zhili.supervision.problems.selectors import ProblemFilters, problem_actions, problem_list

pytestmark = pytest.mark.django_db


def _png():
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 0, 0)).save(out, "PNG")
    return SimpleUploadedFile("photo.png", out.getvalue(), content_type="image/png")


def test_the_closed_loop_with_a_return(problem, street_operator, district_operator):
    from zhili.audit.models import AuditEntry

    p = svc.problem_start(actor=street_operator, problem=problem, version=1)
    p = svc.problem_record_step(actor=street_operator, problem=p, note="补录巡查记录",
                                evidence=[_png()])
    p = svc.problem_submit(actor=street_operator, problem=p, note="已整改")
    assert p.status == "submitted"
    p = svc.problem_return(actor=district_operator, problem=p, note="记录不全")
    assert (p.status, p.returned_count) == ("rectifying", 1)
    p = svc.problem_submit(actor=street_operator, problem=p)
    p = svc.problem_verify(actor=district_operator, problem=p)
    p = svc.problem_close(actor=district_operator, problem=p)
    assert p.status == "closed" and p.closed_at is not None
    kinds = list(p.events.values_list("kind", flat=True))
    assert kinds == ["raised", "rectifying", "step", "submitted", "returned", "submitted",
                     "verified", "closed"]
    assert p.evidence.get().content_type == "image/jpeg"
    actions = set(AuditEntry.objects.filter(object_id=str(p.pk), action__startswith="problem.")
                  .values_list("action", flat=True))
    assert {"problem.raise", "problem.submit", "problem.return", "problem.close"} <= actions


def test_wrong_transitions_are_refused_and_change_nothing(problem, street_operator):
    with pytest.raises(InvalidTransition) as err:
        svc.problem_verify(actor=street_operator, problem=problem)
    assert err.value.status == 409
    with pytest.raises(InvalidTransition):
        svc.problem_submit(actor=street_operator, problem=problem)
    problem.refresh_from_db()
    assert problem.status == "open" and problem.version == 1
    with pytest.raises(ValidationFailed):  # a return needs its reason
        svc.problem_return(actor=street_operator, problem=problem, note=" ")


def test_stale_version_is_a_conflict(problem, street_operator):
    from zhili.core.errors import Conflict

    with pytest.raises(Conflict):
        svc.problem_start(actor=street_operator, problem=problem, version=7)


def test_three_way_permissions(problem, grid_worker, other_street_operator, street_operator):
    # No supervision role: a grid worker sees nothing and may do nothing.
    assert not problem_list(actor=grid_worker).exists()
    with pytest.raises(NotFound):
        svc.problem_start(actor=grid_worker, problem=problem)
    # The right role in another street: the same 404 as a missing problem.
    assert not problem_list(actor=other_street_operator).exists()
    with pytest.raises(NotFound):
        svc.problem_start(actor=other_street_operator, problem=problem)
    with pytest.raises(NotFound):  # outside their area, as elsewhere
        svc.problem_raise(actor=other_street_operator, list_type="grid_weekly", title="x",
                          area=problem.area.code, deadline=date.today())
    # In scope: sees it and may start it.
    assert list(problem_list(actor=street_operator)) == [problem]
    assert "start" in problem_actions(actor=street_operator, problem=problem)


def test_bad_input_names_the_field(street, street_operator):
    cases = [dict(list_type="nope"), dict(title=""), dict(area="999"), dict(deadline="soon"),
             dict(owner_department="no-such")]
    for bad in cases:
        args = dict(actor=street_operator, list_type="grid_weekly", title="t", area=street.code,
                    deadline="2030-01-01") | bad
        with pytest.raises(ValidationFailed) as err:
            svc.problem_raise(**args)
        assert err.value.errors[0].field == next(iter(bad))
    assert not Problem.objects.exists()


def test_filters(problem, street_operator):
    yesterday = date.today() - timedelta(days=1)
    late = svc.problem_raise(actor=street_operator, list_type="dispute_monthly", title="late",
                             area=problem.area.code, deadline=yesterday)
    rows = problem_list(actor=street_operator, filters=ProblemFilters(overdue=True))
    assert list(rows) == [late]
    rows = problem_list(actor=street_operator, filters=ProblemFilters(list_type="grid_weekly"))
    assert list(rows) == [problem]
    with pytest.raises(ValidationFailed):
        problem_list(actor=street_operator, filters=ProblemFilters(status="bogus"))


def test_one_problem_per_breach(street, monkeypatch):
    from zhili.supervision import kpi_source
    from zhili.supervision.problems import rules

    rule = ProblemRule.objects.create(code="on-time-90", name="按时办结率低于90%",
                                      list_type="grid_weekly", kpi="governance.on_time_resolve",
                                      threshold=0.9, periods=2)
    monkeypatch.setattr(kpi_source, "kpi_figures", lambda code, area, cadence, starts: [0.8] * 2)
    first = rules.rule_evaluate(rule, areas=[street])
    again = rules.rule_evaluate(rule, areas=[street])
    assert len(first) == 1 and again == []
    # Even with the open-problem guard out of the way, the breach key holds.
    Problem.objects.filter(pk=first[0].pk).update(status="closed")
    assert rules.rule_evaluate(rule, areas=[street]) == []
    assert Problem.objects.filter(rule=rule).count() == 1
    # A period not in breach raises nothing.
    monkeypatch.setattr(kpi_source, "kpi_figures", lambda code, area, cadence, starts: [0.8, 0.95])
    Problem.objects.all().delete()
    assert rules.rule_evaluate(rule, areas=[street]) == []


def test_rule_reads_the_rolled_up_kpi(street):
    """The rule's KPI comes from the roll-ups of the street's cases (nothing staged)."""
    from zhili.supervision import periods as P
    from zhili.supervision.kpi_source import kpi_figures
    from zhili.supervision.problems import rules

    starts = [P.previous("week", P.last_complete("week")), P.last_complete("week")]
    values = kpi_figures("governance.cases", street, "week", starts)
    assert len(values) == 2 and all(v is not None and v >= 0 for v in values)
    # "More than -1 cases two weeks running": always breached, so one problem.
    rule = ProblemRule.objects.create(code="any-cases", name="any", list_type="grid_weekly",
                                      kpi="governance.cases", comparison="above",
                                      threshold=-1, periods=2)
    assert len(rules.rule_evaluate(rule, areas=[street])) == 1


def test_the_sweep_skips_a_rule_on_an_unknown_kpi(street, monkeypatch):
    from zhili.supervision import kpi_source
    from zhili.supervision.problems import rules

    ProblemRule.objects.update(active=False)  # the demo's rules
    ProblemRule.objects.create(code="bad", name="bad", list_type="grid_weekly",
                               kpi="governance.nope", threshold=1, area_level="street")
    ProblemRule.objects.create(code="good", name="good", list_type="grid_weekly",
                               kpi="governance.on_time_resolve", threshold=0.9,
                               area_level="street")
    monkeypatch.setattr(kpi_source, "kpi_figures", lambda code, area, cadence, starts: [0.5] * 2)
    monkeypatch.setattr("zhili.supervision.areas.areas_at_level", lambda level, under="": [street])
    assert rules.rules_evaluate() == 1
    assert Problem.objects.get().rule.code == "good"
