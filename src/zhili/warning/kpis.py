"""Early warning's KPIs: what the supervision app rolls up, and the formulas.

A warning counts in its risk point's area on the day (city time) it was
raised. Acknowledgement time runs from raising to the first acknowledgement
by a responsible person; escalations count the steps up the reach ladder when
nobody acknowledged in time.
"""

from __future__ import annotations

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from zhili.core.plugins import Kpi, KpiSource, components_by_area_day
from zhili.warning import selectors

READS = "zhili.warning.selectors"
ACKED = Q(first_ack__isnull=False)

AGGREGATES = {
    "warnings": Count("id"),
    "acknowledged": Count("id", filter=ACKED),
    "ack_minutes": Sum("ack_time", filter=ACKED),
    "escalations": Sum("n_escalations"),
    "public": Count("id", filter=Q(public=True)),
}


def _rows(area_path=None, start=None, end=None):
    return selectors.warnings_for_rollup(area_path=area_path, start=start, end=end).annotate(
        ack_time=ExpressionWrapper(F("first_ack") - F("raised_at"), output_field=DurationField()))


def components(area_path=None, start=None, end=None) -> dict:
    rows = _rows(area_path, start, end)
    out = components_by_area_day(rows, "raised_at", **AGGREGATES)
    for key, cell in components_by_area_day(rows, "raised_at", ("peak_level",),
                                            level=Count("id")).items():
        out.setdefault(key, cell.__class__()).update(cell)
    return out


def changes(after_id: int, limit: int):
    return selectors.warning_changes(after_id=after_id, limit=limit)


def ack_rate(c) -> float | None:
    return round(c.get("acknowledged", 0) / c["warnings"], 4) if c.get("warnings") else None


def ack_minutes(c) -> float | None:
    done = c.get("acknowledged", 0)
    return round(c.get("ack_minutes", 0) / done, 1) if done else None


def _kpi(code, name, formula, unit, better, value, empty="", headline=False):
    return Kpi(code=f"warning.{code}", name=name, formula=formula, unit=unit, better=better,
               reads=READS, source="warning.warnings", value=value, empty=empty,
               headline=headline)


KPIS = [
    _kpi("raised", _("Warnings raised"), _("number of warnings raised"), "count", "neither",
         lambda c: c.get("warnings", 0), headline=True),
    _kpi("red_orange", _("Red and orange warnings"),
         _("warnings whose peak level was orange or red"), "count", "neither",
         lambda c: c.get("level.3", 0) + c.get("level.4", 0)),
    _kpi("ack_rate", _("Acknowledgement rate"),
         _("warnings acknowledged by a responsible person ÷ warnings raised"), "share",
         "higher", ack_rate, _("no warning was raised"), headline=True),
    _kpi("ack_minutes", _("Time to acknowledge"),
         _("mean minutes from raising to the first acknowledgement, over acknowledged "
           "warnings"), "minutes", "lower", ack_minutes, _("no warning was acknowledged")),
    _kpi("escalations", _("Escalations"),
         _("steps up the reach ladder because nobody acknowledged in time"), "count", "lower",
         lambda c: c.get("escalations", 0)),
]
SOURCES = [KpiSource(name="warning.warnings", changes=changes, components=components)]
