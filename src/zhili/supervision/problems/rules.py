"""KPI rules that raise problems: evaluated by a periodic job (tasks.py).

A rule breaches for an area when its KPI was beyond the threshold in each of
the last `periods` complete periods. A rule with an area is evaluated only for
the areas of its level inside that area's subtree; without one, across the
whole city. The breach is keyed by (rule, area, the latest period):
evaluating again, or in two workers at once, raises nothing more, and while
the area's problem from this rule is still open no new one is raised for the
same continuing breach.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from zhili.supervision import kpi_source
from zhili.supervision import periods as P
from zhili.supervision.models import Problem, ProblemRule
from zhili.supervision.models.problems import OPEN_PROBLEM_STATUSES

logger = logging.getLogger("zhili.supervision")


def breached(rule: ProblemRule, values: list) -> bool:
    if not values or any(v is None for v in values):
        return False  # a period with nothing to measure is no breach
    if rule.comparison == ProblemRule.Comparison.BELOW:
        return all(v < rule.threshold for v in values)
    return all(v > rule.threshold for v in values)


def rule_evaluate(rule: ProblemRule, *, areas, today=None, now=None) -> list[Problem]:
    from zhili.supervision.problems.services import problem_raise_for_breach

    latest = P.last_complete(rule.period, today or timezone.localdate(now))
    starts = [latest]
    for _i in range(rule.periods - 1):
        starts.append(P.previous(rule.period, starts[-1]))
    open_areas = set(Problem.objects.filter(rule=rule, status__in=OPEN_PROBLEM_STATUSES)
                     .values_list("area_id", flat=True))
    raised = []
    for area in areas:
        if area.pk in open_areas or not area.path.startswith(rule.area_path):
            continue  # "" (the whole city) starts every path
        values = kpi_source.kpi_figures(rule.kpi, area, rule.period, list(reversed(starts)))
        if breached(rule, values):
            problem = problem_raise_for_breach(rule=rule, area=area, period_start=latest,
                                               values=values, now=now)
            if problem is not None:
                raised.append(problem)
    return raised


def rules_evaluate(*, today=None, now=None) -> int:
    from zhili.supervision.areas import areas_at_level
    from zhili.supervision.kpis import kpi_problem

    raised = 0
    for rule in ProblemRule.objects.filter(active=True):
        problem = kpi_problem(rule.kpi, scalar=True)
        if problem:  # one bad rule must not stop the others
            logger.error("problem rule %s skipped: %s", rule.code, problem)
            continue
        areas = areas_at_level(rule.area_level, under=rule.area_path)
        raised += len(rule_evaluate(rule, areas=areas, today=today, now=now))
    return raised
