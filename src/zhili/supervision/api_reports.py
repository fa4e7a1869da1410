"""/api/v1/supervision/reports: the archive scoped to the caller's area, a report with
its runs, its files by language, subscriptions, and regenerating a past period.

Thin: the selectors and services of `reports/` raise the RFC 9457 errors (an
unknown kind or a period not yet ended is a 422, another area's report a 404).
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from pydantic import Field

from zhili.core.errors import NotFound, PermissionDenied
from zhili.core.pagination import PageParams, paginate
from zhili.core.schemas import ERRORS, WRITE_ERRORS, Day
from zhili.supervision.access import VIEW
from zhili.supervision.kinds import kind_label
from zhili.supervision.reports import selectors
from zhili.supervision.reports import services as svc
from zhili.supervision.reports.render import present
from zhili.supervision.reports.render import report_csv as report_csv_text
from zhili.supervision.schemas import (
    ReportDetailOut,
    ReportPage,
    ReportReaderOut,
    ReportRegenerateIn,
    ReportRunOut,
    ReportSeriesOut,
)

router = Router(tags=["supervision"])

FILE = {"responses": {200: {"description": "the file"}}}


def _viewer(request):
    if request.user.scope(VIEW).empty:
        raise PermissionDenied()
    return request.user


def _language(lang: str | None) -> str:
    return "en" if (lang or get_language() or "").startswith("en") else "zh-hans"


def run_out(run) -> dict:
    who = run.requested_by
    return {"id": run.pk, "period_start": run.period_start, "trigger": run.trigger,
            "requested_by": who.get_username() if who else None, "status": run.status,
            "started_at": run.started_at, "finished_at": run.finished_at,
            "duration_ms": run.duration_ms,
            "reason": run.reason if run.status == "failed" else ""}


def report_out(report) -> dict:
    base = f"/api/v1/supervision/reports/{report.pk}"
    return {"id": report.pk, "series": report.series_id, "kind": report.kind,
            "kind_name": kind_label(report.kind), "area": report.series.area.code,
            "area_name": report.series.area.name, "area_path": report.area_path,
            "period_start": report.period_start, "period_end": report.period_end,
            "revision": report.revision, "generated_at": report.generated_at,
            "empty": report.empty, "subscribed": bool(getattr(report, "subscribed", False)),
            "pdf": f"{base}/pdf", "csv": f"{base}/csv" if report.csv else None}


class ReportQuery(PageParams):
    kind: str | None = Field(None, max_length=40, description="one of the eight report kinds")
    area: str | None = Field(None, max_length=20, description="an area code: it and below")
    start_from: Day | None = Field(None, description="periods starting on or after")
    start_to: Day | None = Field(None, description="periods starting on or before")


@router.get("", response={200: ReportPage, **ERRORS},
            summary="The report archive of my area, newest period first")
def reports_list(request, q: Query[ReportQuery]):
    actor = _viewer(request)
    filters = selectors.ReportFilters(
        kind=q.kind or None, area=q.area or None,
        start_from=q.start_from.isoformat() if q.start_from else None,
        start_to=q.start_to.isoformat() if q.start_to else None)
    page = paginate(selectors.report_list(actor=actor, filters=filters), q)
    page["items"] = [report_out(r) for r in page["items"]]
    return page


@router.get("/{int:report_id}", response={200: ReportDetailOut, **ERRORS},
            summary="A report: its figures in my language and the runs of its period")
def report_detail(request, report_id: int, lang: str | None = None):
    actor = _viewer(request)
    report = selectors.report_get_for(actor=actor, report_id=report_id)
    report.subscribed = selectors.is_subscribed(actor=actor, series=report.series)
    view = present(report.data, _language(lang))
    runs = [r for r in selectors.series_runs(series=report.series)
            if r.period_start == report.period_start]
    return {**report_out(report), "title": view["title"],
            "figures": [{"label": f["label"], "value": str(f["value"])} for f in view["figures"]],
            "notes": [str(n) for n in view["notes"]], "runs": [run_out(r) for r in runs]}


@router.get("/{int:report_id}/pdf", response={200: None, **ERRORS}, openapi_extra=FILE,
            summary="The report as PDF (?lang=en or zh-hans; default: my language)")
def report_pdf(request, report_id: int, lang: str | None = None):
    report = selectors.report_get_for(actor=_viewer(request), report_id=report_id)
    name = report.pdf(_language(lang))
    if not name or not default_storage.exists(name):
        raise NotFound(_("The report has no PDF in that language."))
    return FileResponse(default_storage.open(name, "rb"), as_attachment=True,
                        filename=f"{report.kind}-{report.series.area.code}-"
                                 f"{report.period_start}.pdf", content_type="application/pdf")


@router.get("/{int:report_id}/csv", response={200: None, **ERRORS}, openapi_extra=FILE,
            summary="The report's tables in full as CSV (UTF-8 with BOM), in my language")
def report_csv(request, report_id: int, lang: str | None = None):
    report = selectors.report_get_for(actor=_viewer(request), report_id=report_id)
    if not report.csv:
        raise NotFound(_("The report has no tables."))
    response = HttpResponse(report_csv_text(report.data, _language(lang)),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="{report.kind}-'
                                       f'{report.series.area.code}-{report.period_start}.csv"')
    return response


@router.post("/regenerate", response={202: ReportRunOut, **WRITE_ERRORS},
             summary="Make or remake a report for a past period (queued on the long lane)")
def report_regenerate(request, body: ReportRegenerateIn):
    """Needs `supervision.manage_reports` over the area (403 if you only see it, 404
    outside your area). Returns the queued run; follow it at `GET series/{id}`."""
    actor = _viewer(request)
    run = svc.report_regenerate(actor=actor, kind=body.kind, area=body.area,
                                period_start=body.period_start)
    return Status(202, run_out(run))


def _series(request, series_id: int):
    actor = _viewer(request)
    return actor, selectors.series_get_for(actor=actor, series_id=series_id)


def series_out(actor, series) -> dict:
    return {"id": series.pk, "kind": series.kind, "kind_name": kind_label(series.kind),
            "area": series.area.code, "area_path": series.area_path,
            "owner": series.owner.get_username() if series.owner_id else None,
            "subscribed": selectors.is_subscribed(actor=actor, series=series),
            "runs": [run_out(r) for r in selectors.series_runs(series=series)]}


@router.get("/series/{int:series_id}", response={200: ReportSeriesOut, **ERRORS},
            summary="A series (kind × area): its owner and its latest runs")
def series_detail(request, series_id: int):
    actor, series = _series(request, series_id)
    return series_out(actor, series)


@router.post("/series/{int:series_id}/subscribe", response={200: ReportSeriesOut, **ERRORS},
             summary="Be told of each new report of the series")
def series_subscribe(request, series_id: int):
    actor, series = _series(request, series_id)
    svc.report_subscribe(actor=actor, series=series)
    return series_out(actor, series)


@router.post("/series/{int:series_id}/unsubscribe", response={200: ReportSeriesOut, **ERRORS},
             summary="Stop being told of new reports of the series")
def series_unsubscribe(request, series_id: int):
    actor, series = _series(request, series_id)
    svc.report_unsubscribe(actor=actor, series=series)
    return series_out(actor, series)


@router.get("/series/{int:series_id}/subscribers", response={200: list[ReportReaderOut], **ERRORS},
            summary="Who subscribes to the series (names of persons: the read is audited)")
def series_subscribers(request, series_id: int):
    actor, series = _series(request, series_id)
    return [{"username": u.get_username(), "name": getattr(u, "display_name", "") or ""}
            for u in svc.series_readers_read(actor=actor, series=series)]
