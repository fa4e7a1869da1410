"""Assessment scores: a scoring rule's weighted KPIs for each street or district.

Each KPI's value is placed on 0–100 between the rule's `worst` and `best`
(clamped), and the score is the weighted mean over the KPIs that could be
computed; those that could not are shown with their reason and leave the
weights of the others to count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from zhili.core.errors import NotFound
from zhili.supervision.models import ScoringRule
from zhili.supervision.selectors import KpiValue, kpi_by_area


@dataclass
class Part:
    kpi: object
    weight: float
    worst: float
    best: float
    value: KpiValue
    points: float | None  # 0–100, None when the KPI could not be computed


@dataclass
class Score:
    area_path: str
    score: float | None
    parts: list[Part] = field(default_factory=list)
    reason: str = ""
    rank: int | None = None


def points(value: float, worst: float, best: float) -> float:
    share = (value - worst) / (best - worst)
    return round(100 * min(1.0, max(0.0, share)), 1)


def rule_get(code: str) -> ScoringRule:
    rule = ScoringRule.objects.filter(code=code).prefetch_related("weights").first()
    if rule is None:
        raise NotFound(_("No scoring rule %(code)s.") % {"code": code})
    return rule


def scores(rule: ScoringRule, paths: list[str], start: date, *, actor=None) -> list[Score]:
    """Scores of `paths` under `rule` for the period starting `start`, ranked (best first;
    areas without a score last)."""
    from zhili.supervision.kpis import kpis

    weights = list(rule.weights.all())
    by_kpi = {w.kpi: kpi_by_area(w.kpi, paths, rule.period, start, actor=actor)
              for w in weights if w.kpi in kpis()}
    out = []
    for path in paths:
        parts = []
        for w in weights:
            if w.kpi not in by_kpi:
                continue  # a KPI whose app has since been removed
            value = by_kpi[w.kpi][path]
            pts = points(value.value, w.worst, w.best) if value.value is not None else None
            parts.append(Part(kpi=value.kpi, weight=float(w.weight), worst=w.worst, best=w.best,
                              value=value, points=pts))
        counted = [p for p in parts if p.points is not None]
        total = sum(p.weight for p in counted)
        if counted and total:
            out.append(Score(path, round(sum(p.weight * p.points for p in counted) / total, 1),
                             parts))
        else:
            out.append(Score(path, None, parts, _("none of its KPIs could be computed")))
    out.sort(key=lambda s: (s.score is None, -(s.score or 0), s.area_path))
    for rank, s in enumerate((s for s in out if s.score is not None), start=1):
        s.rank = rank
    return out
