"""Grid governance's KPIs: what the supervision app rolls up, and the formulas.

A case counts in the area of its grid and on the day (city time) it was
reported, whatever happens to it later: its later steps change that day's
figures. Every figure is a ratio or median of additive components (counts,
sums, a histogram of handling minutes), so sums over areas and days are
exact; the figures page (governance/figures.py) reads these KPIs from the
supervision app's roll-ups and counts only its breakdowns itself.
"""

from __future__ import annotations

import functools
import operator
from collections import Counter

from django.db.models import Case as SqlCase
from django.db.models import Count, F, IntegerField, Q, Sum, When
from django.utils.translation import gettext_lazy as _

from zhili.core.plugins import Kpi, KpiSource, area_day_grouped, components_by_area_day
from zhili.governance import selectors
from zhili.governance.models import OPEN_STATUSES, STREET_OR_BELOW, ResolutionLevel

READS = "zhili.governance.selectors"

# Handling minutes binned so that a median is a sum of counts: 15-minute bins
# below a day, hourly below a week, daily beyond. The median is the lower edge
# of the bin holding the middle case.
HANDLING_BIN = SqlCase(
    When(handling_minutes__lt=1440, then=F("handling_minutes") / 15 * 15),
    When(handling_minutes__lt=10080, then=F("handling_minutes") / 60 * 60),
    default=F("handling_minutes") / 1440 * 1440,
    output_field=IntegerField(),
)

AGGREGATES = {
    "cases": Count("id"),
    "open": Count("id", filter=Q(status__in=OPEN_STATUSES)),
    "accept_on": Count("id", filter=Q(accept_on_time=True)),
    "accept_all": Count("id", filter=Q(accept_on_time__isnull=False)),
    "arrive_on": Count("id", filter=Q(arrive_on_time=True)),
    "arrive_all": Count("id", filter=Q(arrive_on_time__isnull=False)),
    "resolve_on": Count("id", filter=Q(resolve_on_time=True)),
    "resolve_all": Count("id", filter=Q(resolve_on_time__isnull=False)),
    "handled": Count("id", filter=Q(handling_minutes__isnull=False)),
    "resolved": Count("id", filter=~Q(resolved_level="")),
    "resolved_low": Count("id", filter=Q(resolved_level__in=["grid", "community", "street"])),
    "reached_resolution": Count("id", filter=Q(resolved_at__isnull=False)),
    "reopened": Count("id", filter=Q(was_reopened=True)),
    "rated": Count("id", filter=Q(rating__isnull=False)),
    "rating_sum": Sum("rating"),
    "escalated": Count("id", filter=~Q(highest_level="grid")),
    "disputes": Count("dispute"),
    "disputes_resolved": Count("dispute", filter=~Q(dispute__resolution_level="")),
    "disputes_low": Count("dispute", filter=Q(dispute__resolution_level__in=STREET_OR_BELOW)),
}


def _rows(rows):
    return rows.annotate(was_reopened=selectors.case_reopened_q())


def _parts(rows):
    """(rows, group fields, aggregates) whose area-day components make a source's."""
    return [
        (rows, (), AGGREGATES),
        (rows.filter(handling_minutes__isnull=False).annotate(bin=HANDLING_BIN), ("bin",),
         {"handling": Count("id")}),
        (rows.exclude(dispute__isnull=True).exclude(dispute__resolution_level=""),
         ("dispute__resolution_level",), {"dispute_level": Count("id")}),
        (rows.exclude(resolved_level=""), ("resolved_level",), {"resolved_level": Count("id")}),
    ]


def components(area_path=None, start=None, end=None) -> dict:
    rows = _rows(selectors.cases_for_rollup(area_path=area_path, start=start, end=end))
    out: dict = {}
    for part, group, aggregates in _parts(rows):
        for key, cell in components_by_area_day(part, "created_at", group,
                                                **aggregates).items():
            out.setdefault(key, Counter()).update(cell)
    return out


def queries(under=None, buckets=None) -> list:
    """The components as grouped querysets (a set-based rebuild, a batched poll): the
    cases under `under`, or those of `buckets` [(grid path, start, end)]."""
    rows = selectors.cases_for_rollup()
    if under:
        rows = rows.filter(area_path__startswith=under)
    if buckets is not None:
        # One lookup per day, not per bucket: a poll's buckets are mostly one or two
        # days of many grids, and compiling an OR of hundreds of ranges cost the
        # poller more than PostgreSQL's work.
        days: dict = {}
        for path, start, end in buckets:
            days.setdefault((start, end), []).append(path)
        rows = rows.filter(functools.reduce(operator.or_, (
            Q(area_path__in=paths, created_at__gte=start, created_at__lt=end)
            for (start, end), paths in days.items()), Q(pk__in=[])))
    return [(area_day_grouped(part, "created_at", group, **aggregates), group,
             tuple(aggregates)) for part, group, aggregates in _parts(_rows(rows))]


def changes(after_id: int, limit: int):
    return selectors.case_changes(after_id=after_id, limit=limit)


# --- formulas -------------------------------------------------------------------

def ratio(c, part: str, whole: str) -> float | None:
    return round(c.get(part, 0) / c[whole], 4) if c.get(whole) else None


def median_handling(c) -> int | None:
    """Lower edge (minutes) of the bin holding the middle case (index n // 2)."""
    n = c.get("handled", 0)
    if not n:
        return None
    bins = sorted((int(k.split(".", 1)[1]), v) for k, v in c.items() if k.startswith("handling."))
    seen = 0
    for edge, count in bins:
        seen += count
        if seen > n // 2:
            return edge
    return None


def satisfaction(c) -> float | None:
    return round(c.get("rating_sum", 0) / c["rated"], 2) if c.get("rated") else None


def dispute_levels(c) -> dict | None:
    total = c.get("disputes_resolved", 0)
    if not total:
        return None
    return {lv: round(c.get(f"dispute_level.{lv}", 0) / total, 4) for lv in ResolutionLevel.values}


def _kpi(code, name, formula, unit, better, value, empty, headline=False):
    return Kpi(code=f"governance.{code}", name=name, formula=formula, unit=unit, better=better,
               reads=READS, source="governance.cases", value=value, empty=empty,
               headline=headline)


KPIS = [
    _kpi("cases", _("Cases reported"), _("number of cases reported"), "count", "neither",
         lambda c: c.get("cases", 0), "", headline=True),
    _kpi("open_cases", _("Cases still open"),
         _("cases reported in the period that are not yet closed"), "count", "lower",
         lambda c: c.get("open", 0), ""),
    _kpi("on_time_accept", _("On-time rate: acceptance"),
         _("cases accepted within the category's limit ÷ cases accepted"), "share", "higher",
         lambda c: ratio(c, "accept_on", "accept_all"), _("no case was accepted")),
    _kpi("on_time_arrive", _("On-time rate: arrival on site"),
         _("cases reached on site within the limit ÷ cases reached on site"), "share", "higher",
         lambda c: ratio(c, "arrive_on", "arrive_all"), _("no case was reached on site")),
    _kpi("on_time_resolve", _("On-time rate: resolution"),
         _("cases resolved within the limit ÷ cases resolved"), "share", "higher",
         lambda c: ratio(c, "resolve_on", "resolve_all"), _("no case was resolved"),
         headline=True),
    _kpi("median_handling", _("Median handling time"),
         _("median of minutes from report to closing, over closed cases (15-minute bins "
           "below a day, hourly below a week, daily beyond)"), "minutes", "lower",
         median_handling, _("no case was closed"), headline=True),
    _kpi("resolved_street_or_below", _("Resolved at street level or below"),
         _("cases resolved at grid, community or street level ÷ cases resolved"), "share",
         "higher", lambda c: ratio(c, "resolved_low", "resolved"), _("no case was resolved")),
    _kpi("satisfaction", _("Satisfaction"),
         _("mean of the reporters' ratings (1 to 5) over rated cases"), "rating", "higher",
         satisfaction, _("no case was rated"), headline=True),
    _kpi("reopen_rate", _("Reopen rate"),
         _("cases reopened at least once ÷ cases that reached resolution"), "share", "lower",
         lambda c: ratio(c, "reopened", "reached_resolution"), _("no case was resolved")),
    _kpi("escalated", _("Cases escalated"),
         _("cases that went above grid level"), "count", "lower",
         lambda c: c.get("escalated", 0), ""),
    _kpi("disputes", _("Disputes recorded"), _("number of disputes recorded"), "count",
         "neither", lambda c: c.get("disputes", 0), ""),
    _kpi("disputes_street_or_below", _("Disputes resolved at street level or below"),
         _("disputes resolved at grid, community or street level ÷ disputes resolved"),
         "share", "higher", lambda c: ratio(c, "disputes_low", "disputes_resolved"),
         _("no dispute was resolved"), headline=True),
    _kpi("dispute_levels", _("Dispute resolution levels"),
         _("share of resolved disputes settled at each level (grid … city, court, "
           "arbitration)"), "distribution", "neither", dispute_levels,
         _("no dispute was resolved")),
]
KPIS_BY_CODE = {k.code: k for k in KPIS}
SOURCES = [KpiSource(name="governance.cases", changes=changes, components=components,
                     queries=queries)]
