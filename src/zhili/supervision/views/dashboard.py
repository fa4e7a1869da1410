"""Supervision pages: the area dashboard (headline KPIs and their trends, every KPI
with its formula), the assessment rankings and the breakdown behind a score.
Everything read from the roll-ups, scoped to the viewer's area."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from zhili.core.errors import ApplicationError, NotFound
from zhili.core.i18n import localized
from zhili.geo.selectors import node_by_code, node_list
from zhili.supervision import assessments, selectors
from zhili.supervision.charts import sparkline
from zhili.supervision.models import ScoringRule
from zhili.supervision.periods import PERIODS, period_start, previous_starts, today

TREND = 8  # periods shown in a sparkline
LEVEL_OF_DEPTH = {1: "city", 2: "district", 3: "street", 4: "community", 5: "grid"}


def _viewer(request):
    if request.user.scope(selectors.VIEW).empty:
        raise PermissionDenied
    return request.user


def _area(request, actor):
    """The area asked for (?area=code), else the viewer's widest one; 404 outside scope."""
    scope = actor.scope(selectors.VIEW)
    code = request.GET.get("area", "").strip()
    if code:
        node = node_by_code(code)
        if node is None or not scope.covers(node.path):
            raise Http404
        return node
    path = "50/" if scope.everywhere else sorted(scope.paths, key=len)[0]
    node = node_list(actor=actor).filter(path=path).first()
    if node is None:
        raise Http404
    return node


def _period(request) -> tuple[str, date]:
    period = request.GET.get("period", "month")
    period = period if period in PERIODS else "month"
    try:
        day = date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        day = today()
    return period, period_start(period, day)


def shown(value, unit: str) -> str:
    """A KPI value as people read it: shares in per cent, minutes as hours past two hours."""
    if value is None:
        return "—"
    if unit == "distribution":
        return " · ".join(f"{k} {round(v * 100, 1)}%" for k, v in value.items() if v)
    if unit == "share":
        return f"{round(value * 100, 1)}%"
    if unit == "minutes":
        return f"{round(value / 60, 1)} h" if value >= 120 else f"{round(value)} min"
    if unit == "rating":
        return f"{value}★"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _name(node) -> str:
    return localized(node, "name")


@login_required
def dashboard(request):
    actor = _viewer(request)
    node = _area(request, actor)
    period, start = _period(request)
    registry = selectors.kpi_registry()
    values = selectors.kpi_values([k.code for k in registry], node.path, period, start,
                                  actor=actor)
    starts = previous_starts(period, start, TREND)
    headline = []
    for kpi in registry:
        if not kpi.headline:
            continue
        series = selectors.kpi_series(kpi.code, node.path, period, starts, actor=actor)
        headline.append({"kpi": kpi, "value": values[kpi.code],
                         "shown": shown(values[kpi.code].value, kpi.unit),
                         "spark": sparkline([v.value for v in series])})
    rows = [{"kpi": k, "value": values[k.code], "shown": shown(values[k.code].value, k.unit)}
            for k in registry]
    children = [c for c in node_list(actor=actor, parent=node.code)
                if actor.scope(selectors.VIEW).covers(c.path)][:60]
    return render(request, "supervision/dashboard.html", {
        "node": node, "node_name": _name(node), "period": period, "start": start,
        "periods": [("day", _("Day")), ("week", _("Week")), ("month", _("Month"))],
        "headline": headline, "rows": rows,
        "children": [(c, _name(c)) for c in children],
        "previous": previous_starts(period, start, 2)[0],
        "rules": ScoringRule.objects.filter(active=True),
    })


def _rule(code: str) -> ScoringRule:
    try:
        return assessments.rule_get(code)
    except NotFound:
        raise Http404 from None


def _rule_start(request, rule) -> date:
    try:
        day = date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        day = today()
    return period_start(rule.period, day)


@login_required
def rankings(request, rule_code: str | None = None):
    actor = _viewer(request)
    rules = list(ScoringRule.objects.filter(active=True))
    rule = _rule(rule_code) if rule_code else (rules[0] if rules else None)
    context = {"rules": rules, "rule": rule, "scores": [], "error": ""}
    if rule is not None:
        start = _rule_start(request, rule)
        scope = actor.scope(selectors.VIEW)
        nodes = [n for n in node_list(actor=actor, level=rule.level) if scope.covers(n.path)]
        names = {n.path: (n, _name(n)) for n in nodes[:500]}
        try:
            scored = assessments.scores(rule, list(names), start, actor=actor)
        except ApplicationError as exc:
            scored, context["error"] = [], exc.detail
        context.update({
            "start": start, "previous": previous_starts(rule.period, start, 2)[0],
            "scores": [{"score": s, "node": names[s.area_path][0],
                        "name": names[s.area_path][1]} for s in scored],
        })
    return render(request, "supervision/rankings.html", context)


@login_required
def breakdown(request, rule_code: str, area_code: str):
    actor = _viewer(request)
    rule = _rule(rule_code)
    node = node_by_code(area_code)
    if node is None or not actor.scope(selectors.VIEW).covers(node.path):
        raise Http404
    start = _rule_start(request, rule)
    score = assessments.scores(rule, [node.path], start, actor=actor)[0]
    parts = [{"part": p, "shown": shown(p.value.value, p.kpi.unit)} for p in score.parts]
    return render(request, "supervision/breakdown.html", {
        "rule": rule, "node": node, "node_name": _name(node), "start": start, "score": score,
        "parts": parts})
