"""The figures page: the backend's `case_figures`, scoped to the viewer's area (its KPIs
from the supervision roll-ups, its breakdowns counted over the filtered cases)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.errors import ApplicationError
from zhili.governance import selectors
from zhili.governance.figures import FIRST_DAY, case_figures
from zhili.governance.models import LADDER, Board, ResolutionLevel, Status
from zhili.governance.views.common import VIEW, area_choices, error_text, is_htmx, require_somewhere


def _day(text: str, *, end: bool = False):
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    if end:
        day += timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time.min))


def _bars(counts: dict, labels: dict) -> list[dict]:
    top = max(counts.values(), default=0) or 1
    return [{"key": k, "label": labels.get(k, k), "count": n, "width": round(100 * n / top)}
            for k, n in counts.items()]


def _percent(rate):
    return None if rate is None else round(rate * 100, 1)


def _kpi_note(k: dict) -> str:
    """Where the rates, median and satisfaction come from: the KPI roll-ups."""
    if not k["area"]:
        return next(iter(k["values"].values()))["reason"]
    last = k["end_day"] - timedelta(days=1)
    first = "" if k["first_day"] == FIRST_DAY else k["first_day"].isoformat()
    note = (_("Rates, median handling time and satisfaction: the KPI roll-ups of the area, "
              "whole days %(first)s to %(last)s.") if first else
            _("Rates, median handling time and satisfaction: the KPI roll-ups of the area, "
              "every day to %(last)s.")) % {"first": first, "last": last.isoformat()}
    if k["ignored"]:
        note += " " + _("They do not take these filters: %(f)s.") % {"f": ", ".join(k["ignored"])}
    return note


@login_required
def figures(request):
    require_somewhere(request.user, VIEW)
    get = request.GET
    chosen = {k: get.get(k, "").strip() for k in ("area", "board", "category", "from", "to")}
    filters = selectors.CaseFilters(
        area=chosen["area"] or None,
        board=chosen["board"] if chosen["board"] in Board.values else None,
        category=chosen["category"] or None,
        created_from=_day(chosen["from"]) if chosen["from"] else None,
        created_to=_day(chosen["to"], end=True) if chosen["to"] else None,
    )
    error, data = "", None
    try:
        data = case_figures(actor=request.user, filters=filters)
    except ApplicationError as exc:
        error = error_text(exc)
    context = {"chosen": chosen, "error": error, "boards": Board.choices,
               "areas": area_choices(request.user),
               "categories": selectors.category_list(), "updated": timezone.now()}
    if data is not None:
        levels = dict(ResolutionLevel.choices)
        context.update({
            "data": data,
            "status_bars": _bars(data["by_status"], dict(Status.choices)),
            "board_bars": _bars(data["by_board"], dict(Board.choices)),
            "category_bars": _bars({c["code"]: c["count"] for c in data["by_category"][:15]},
                                   {c["code"]: c["name"] for c in data["by_category"]}),
            "area_bars": _bars({a["code"] or a["path"]: a["count"] for a in data["by_area"][:30]},
                               {a["code"] or a["path"]: a["name"] or a["path"]
                                for a in data["by_area"]}),
            "level_bars": _bars({lv: data["resolved_level"].get(lv, 0) for lv in LADDER}, levels),
            "dispute_bars": _bars(data["disputes"]["by_level"], levels),
            "rating_bars": _bars(data["satisfaction"]["by_rating"], {}),
            "on_time": {step: _percent(rate) for step, rate in data["on_time_rate"].items()},
            "kpi_note": _kpi_note(data["kpis"]),
            "dispute_share": _percent(data["disputes"]["share_street_or_below"]),
            "median_hours": None if data["median_handling_minutes"] is None
            else round(data["median_handling_minutes"] / 60, 1),
        })
    template = "governance/partials/figures.html" if is_htmx(request) else "governance/figures.html"
    return render(request, template, context)
