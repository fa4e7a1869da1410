"""Report writes a person makes: regenerate, subscribe, own a series.

Generation itself runs on the `long` lane (tasks.py → pipeline.py); asking
for it is queued with the request's transaction, so a refused or rolled-back
request queues nothing.
"""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core.errors import NotFound, PermissionDenied, invalid
from zhili.core.queue import enqueue_with_commit
from zhili.geo.selectors import node_by_code
from zhili.supervision import periods as P
from zhili.supervision.access import MANAGE_REPORTS, VIEW, has
from zhili.supervision.kinds import KINDS
from zhili.supervision.models import ReportRun, ReportSeries, ReportSubscription, RunStatus
from zhili.supervision.reports.pipeline import series_for


def _period(kind: str, value) -> date:
    day = value if isinstance(value, date) else parse_date(str(value or ""))
    if day is None:
        raise invalid("period_start", _("a date, YYYY-MM-DD"))
    cadence = KINDS[kind].cadence
    start = P.period_start(cadence, day)
    if start > P.last_complete(cadence):
        raise invalid("period_start", _("the period has not ended yet"))
    return start


def report_regenerate(*, actor, kind: str, area: str, period_start) -> ReportRun:
    """Queue (re)making a report for a past period; the new one replaces the old whole.

    The run is recorded at once (`queued`), so the caller can follow it; the task on
    the `long` lane takes that run when it starts."""
    from zhili.supervision.tasks import report_generate_task

    if kind not in KINDS:
        raise invalid("kind", _("one of: %(v)s") % {"v": ", ".join(KINDS)})
    node = node_by_code(str(area or "")) if area else None
    if node is None:
        raise invalid("area", _("unknown area code"))
    start = _period(kind, period_start)
    if not has(actor, MANAGE_REPORTS, node.path):
        if has(actor, VIEW, node.path):
            raise PermissionDenied(_("You may not regenerate reports for this area."))
        raise NotFound()
    series = series_for(kind, node)
    with transaction.atomic():
        run = ReportRun.objects.create(series=series, period_start=start, trigger="manual",
                                       requested_by=actor, status=RunStatus.QUEUED)
        audit_record(actor=actor, action="report.regenerate", obj=series, area_path=node.path,
                     detail={"period_start": start.isoformat(), "run": run.pk})
        enqueue_with_commit(report_generate_task, series.pk, start.isoformat(), "manual",
                            actor.pk, run.pk)
    return run


def _visible(actor, series: ReportSeries) -> None:
    if not has(actor, VIEW, series.area_path):
        raise NotFound()


def report_subscribe(*, actor, series: ReportSeries) -> bool:
    """Be told when the series has a new report; True when newly subscribed."""
    _visible(actor, series)
    try:
        with transaction.atomic():
            ReportSubscription.objects.create(series=series, user=actor,
                                              created_at=timezone.now())
            audit_record(actor=actor, action="report.subscribe", obj=series,
                         area_path=series.area_path)
    except IntegrityError:
        return False  # already subscribed: nothing to change
    return True


def report_unsubscribe(*, actor, series: ReportSeries) -> bool:
    _visible(actor, series)
    with transaction.atomic():
        deleted, _n = ReportSubscription.objects.filter(series=series, user=actor).delete()
        if deleted:
            audit_record(actor=actor, action="report.unsubscribe", obj=series,
                         area_path=series.area_path)
    return bool(deleted)


def report_series_own(*, actor, series: ReportSeries) -> ReportSeries:
    """Become the series' owner: the one told when a run fails."""
    if not has(actor, MANAGE_REPORTS, series.area_path):
        _visible(actor, series)
        raise PermissionDenied(_("You may not own reports for this area."))
    with transaction.atomic():
        ReportSeries.objects.filter(pk=series.pk).update(owner=actor)
        series.owner = actor
        audit_record(actor=actor, action="report.own", obj=series, area_path=series.area_path)
    return series


def series_readers_read(*, actor, series: ReportSeries) -> list:
    """Who else reads the series (names of persons: the read is audited)."""
    _visible(actor, series)
    readers = [s.user for s in series.subscriptions.select_related("user").order_by("user__username")]
    audit_record(actor=actor, action="report.readers_read", obj=series,
                 area_path=series.area_path, purpose="supervision",
                 detail={"readers": len(readers)})
    return readers
