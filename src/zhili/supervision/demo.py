"""Demo: two scoring rules (streets and districts, monthly) and the roll-ups of the
demo data, so the dashboard and rankings show figures at once."""

from __future__ import annotations

from zhili.supervision.models import ScoringRule
from zhili.supervision.services import rollups_rebuild, scoring_rule_save

WEIGHTS = [
    {"kpi": "governance.on_time_resolve", "weight": 3, "worst": 0.6, "best": 1.0},
    {"kpi": "governance.satisfaction", "weight": 2, "worst": 3.0, "best": 5.0},
    {"kpi": "governance.reopen_rate", "weight": 1, "worst": 0.2, "best": 0.0},
    {"kpi": "governance.disputes_street_or_below", "weight": 2, "worst": 0.8, "best": 1.0},
    {"kpi": "warning.ack_rate", "weight": 1, "worst": 0.5, "best": 1.0},
]


def seed(*, seed: int = 1, log=print) -> None:
    for code, name, name_en, level in (
            ("street-monthly", "街镇月度考核", "Street monthly assessment", "street"),
            ("district-monthly", "区县月度考核", "District monthly assessment", "district")):
        if not ScoringRule.objects.filter(code=code).exists():
            scoring_rule_save(actor=None, code=code, name=name, name_en=name_en, level=level,
                              period="month", weights=WEIGHTS)
    cells = rollups_rebuild(actor=None)
    log(f"supervision: scoring rules, roll-ups {cells}")
