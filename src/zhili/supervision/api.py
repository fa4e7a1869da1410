"""/api/v1/supervision: the KPI registry, KPI values and trends per area and period,
scoring rules and their rankings; reports (`api_reports.py`, under /reports) and
problem lists (`api_problems.py`, under /problems). All scoped to the caller's area."""

from __future__ import annotations

from datetime import date

from ninja import Query, Router, Schema
from pydantic import Field

from zhili.core.errors import NotFound, PermissionDenied
from zhili.core.schemas import ERRORS, WRITE_ERRORS
from zhili.geo.selectors import node_by_code, node_list
from zhili.supervision import assessments, selectors, services
from zhili.supervision.periods import check_start, period_start, previous_starts
from zhili.supervision.schemas import (
    KpiOut,
    KpiQuery,
    KpiValueOut,
    ScoreOut,
    ScoringRuleIn,
    ScoringRuleOut,
    SeriesQuery,
)

router = Router(tags=["supervision"])


def _viewer(request):
    if request.user.scope(selectors.VIEW).empty:
        raise PermissionDenied()
    return request.user


def _area_path(actor, code: str) -> str:
    node = node_by_code(code)
    if node is None or not actor.scope(selectors.VIEW).covers(node.path):
        raise NotFound(f"No area with code {code}.")
    return node.path


def _value_out(v) -> dict:
    return {"code": v.code, "area": v.area_path, "period": v.period, "start": v.start,
            "value": v.value, "reason": v.reason}


@router.get("/kpis", response={200: list[KpiOut], **ERRORS}, summary="Every KPI: formula, unit")
def kpis_list(request):
    _viewer(request)
    return [{"code": k.code, "name": str(k.name), "formula": str(k.formula), "unit": k.unit,
             "better": k.better, "reads": k.reads, "source": k.source, "headline": k.headline}
            for k in selectors.kpi_registry()]


@router.get("/kpis/{code}", response={200: KpiValueOut, **ERRORS},
            summary="A KPI for an area and period (null with the reason when it cannot be)")
def kpi_get(request, code: str, q: Query[KpiQuery]):
    actor = _viewer(request)
    path = _area_path(actor, q.area)
    return _value_out(selectors.kpi_value(code, path, q.period, q.start, actor=actor))


@router.get("/kpis/{code}/series", response={200: list[KpiValueOut], **ERRORS},
            summary="A KPI's trend: the `count` periods up to `start`")
def kpi_series(request, code: str, q: Query[SeriesQuery]):
    actor = _viewer(request)
    path = _area_path(actor, q.area)
    selectors.kpi_get(code)
    start = check_start(q.period, q.start)
    return [_value_out(v) for v in selectors.kpi_series(
        code, path, q.period, previous_starts(q.period, start, q.count), actor=actor)]


def _rule_out(rule) -> dict:
    return {"code": rule.code, "name": rule.name, "name_en": rule.name_en, "level": rule.level,
            "period": rule.period, "active": rule.active,
            "weights": [{"kpi": w.kpi, "weight": float(w.weight), "worst": w.worst,
                         "best": w.best} for w in rule.weights.all()]}


@router.post("/scoring-rules", response={200: ScoringRuleOut, **WRITE_ERRORS},
             summary="Create or replace a scoring rule (an unknown KPI is refused)")
def scoring_rule_post(request, body: ScoringRuleIn):
    rule = services.scoring_rule_save(
        actor=request.user, code=body.code, name=body.name, name_en=body.name_en,
        level=body.level, period=body.period, active=body.active,
        weights=[w.model_dump() for w in body.weights])
    return _rule_out(assessments.rule_get(rule.code))


class RankingQuery(Schema):
    start: date = Field(description="a day in the period to rank")


@router.get("/rankings/{rule}", response={200: list[ScoreOut], **ERRORS},
            summary="The scores of the caller's streets or districts under a rule, best first")
def ranking(request, rule: str, q: Query[RankingQuery]):
    actor = _viewer(request)
    scoring = assessments.rule_get(rule)
    scope = actor.scope(selectors.VIEW)
    paths = [n.path for n in node_list(actor=actor, level=scoring.level)
             if scope.covers(n.path)][:500]
    scores = assessments.scores(scoring, paths, period_start(scoring.period, q.start),
                                actor=actor)
    return [{"area": s.area_path, "rank": s.rank, "score": s.score, "reason": s.reason,
             "parts": [{"kpi": p.kpi.code, "weight": p.weight, "value": p.value.value,
                        "reason": p.value.reason, "points": p.points} for p in s.parts]}
            for s in scores]


from zhili.supervision.api_problems import router as problems_router  # noqa: E402
from zhili.supervision.api_reports import router as reports_router  # noqa: E402

router.add_router("/reports", reports_router)
router.add_router("/problems", problems_router)
