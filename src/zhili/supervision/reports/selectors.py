"""The report archive's reads, scoped to the reader's area."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from zhili.core.errors import NotFound, invalid
from zhili.geo.selectors import node_by_code
from zhili.supervision.access import VIEW
from zhili.supervision.kinds import KINDS
from zhili.supervision.models import Report, ReportRun, ReportSeries, ReportSubscription


@dataclass
class ReportFilters:
    kind: str | None = None
    area: str | None = None  # an area code: reports of it and below
    start_from: str | None = None  # YYYY-MM-DD: periods starting on or after
    start_to: str | None = None


def report_list(*, actor, filters: ReportFilters | None = None) -> QuerySet:
    f = filters or ReportFilters()
    rows = Report.objects.restrict(actor, VIEW)
    if f.kind:
        if f.kind not in KINDS:
            raise invalid("kind", _("one of: %(v)s") % {"v": ", ".join(KINDS)})
        rows = rows.filter(kind=f.kind)
    if f.area:
        node = node_by_code(f.area)
        if node is None:
            raise invalid("area", _("unknown area code"))
        rows = rows.filter(area_path__startswith=node.path)
    for name, lookup in (("start_from", "period_start__gte"), ("start_to", "period_start__lte")):
        value = getattr(f, name)
        if value:
            day = parse_date(value) if isinstance(value, str) else None
            if day is None:
                raise invalid(name, _("a date, YYYY-MM-DD"))
            rows = rows.filter(**{lookup: day})
    mine = ReportSubscription.objects.filter(series=OuterRef("series"), user_id=actor.pk)
    return (rows.select_related("series__area").defer("series__area__geometry", "data")
            .annotate(subscribed=Exists(mine)).order_by("-period_start", "kind", "area_path"))


def report_get_for(*, actor, report_id) -> Report:
    try:
        pk = int(report_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    report = (Report.objects.restrict(actor, VIEW).select_related("series__area", "run")
              .defer("series__area__geometry").filter(pk=pk).first())
    if report is None:
        raise NotFound()
    return report


def series_get_for(*, actor, series_id) -> ReportSeries:
    try:
        pk = int(series_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    series = (ReportSeries.objects.restrict(actor, VIEW).select_related("area", "owner")
              .defer("area__geometry").filter(pk=pk).first())
    if series is None:
        raise NotFound()
    return series


def series_runs(*, series: ReportSeries, limit: int = 50) -> list[ReportRun]:
    return list(series.runs.select_related("requested_by")[:limit])


def is_subscribed(*, actor, series: ReportSeries) -> bool:
    return series.subscriptions.filter(user_id=actor.pk).exists()
