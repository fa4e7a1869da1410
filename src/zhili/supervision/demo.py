"""Demo: two scoring rules (streets and districts, monthly) and the roll-ups of the
demo data, so the dashboard and rankings show figures at once; problem rules on
KPIs (the seed's "on-time rate below 90% for two weeks" and two more). Reports need
no seeding: the calendar makes them (Monday and the first of the month, 08:00), or
an operator makes one for a past period from the archive page."""

from __future__ import annotations

from zhili.supervision.models import ProblemRule, ScoringRule
from zhili.supervision.problems.services import problem_rule_create
from zhili.supervision.services import rollups_rebuild, scoring_rule_save

WEIGHTS = [
    {"kpi": "governance.on_time_resolve", "weight": 3, "worst": 0.6, "best": 1.0},
    {"kpi": "governance.satisfaction", "weight": 2, "worst": 3.0, "best": 5.0},
    {"kpi": "governance.reopen_rate", "weight": 1, "worst": 0.2, "best": 0.0},
    {"kpi": "governance.disputes_street_or_below", "weight": 2, "worst": 0.8, "best": 1.0},
    {"kpi": "warning.ack_rate", "weight": 1, "worst": 0.5, "best": 1.0},
]


RULES = [
    # code, name (zh), name (en), list, KPI, comparison, threshold, period, periods, level
    ("street-on-time-90", "按时办结率连续两周低于90%", "On-time resolution below 90% for two weeks",
     "grid_weekly", "governance.on_time_resolve", "below", 0.9, "week", 2, "street"),
    ("street-satisfaction-4", "满意度连续两周低于4分", "Satisfaction below 4 for two weeks",
     "grid_weekly", "governance.satisfaction", "below", 4.0, "week", 2, "street"),
    ("district-disputes-low-95", "镇街及以下化解率连续两月低于95%",
     "Disputes resolved at street level or below under 95% for two months",
     "dispute_monthly", "governance.disputes_street_or_below", "below", 0.95, "month", 2,
     "district"),
]


def seed(*, seed: int = 1, log=print) -> None:
    for code, name, name_en, level in (
            ("street-monthly", "街镇月度考核", "Street monthly assessment", "street"),
            ("district-monthly", "区县月度考核", "District monthly assessment", "district")):
        if not ScoringRule.objects.filter(code=code).exists():
            scoring_rule_save(actor=None, code=code, name=name, name_en=name_en, level=level,
                              period="month", weights=WEIGHTS)
    cells = rollups_rebuild(actor=None)
    log("  supervision: scoring rules; roll-up cells " +
        ", ".join(f"{source} {n}" for source, n in sorted(cells.items())))
    made = 0
    for code, name, name_en, kind, kpi, cmp, threshold, period, periods, level in RULES:
        if not ProblemRule.objects.filter(code=code).exists():
            problem_rule_create(actor=None, code=code, name=name, name_en=name_en,
                                list_type=kind, kpi=kpi, comparison=cmp, threshold=threshold,
                                period=period, periods=periods, area_level=level)
            made += 1
    if made:
        log(f"  {made} problem rules on KPIs")
