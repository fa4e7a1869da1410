"""The report archive: filters, the HTML view, PDF/CSV downloads, regenerate, subscribe."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhili.core.errors import ApplicationError, NotFound
from zhili.supervision.access import MANAGE_REPORTS
from zhili.supervision.kinds import KIND_CHOICES
from zhili.supervision.reports import selectors
from zhili.supervision.reports import services as svc
from zhili.supervision.reports.render import present
from zhili.supervision.reports.render import report_csv as report_csv_text
from zhili.supervision.views.common import act, error_text, viewer

PAGE_SIZE = 50


def _filters(request) -> selectors.ReportFilters:
    g = request.GET
    return selectors.ReportFilters(kind=g.get("kind") or None, area=g.get("area") or None,
                                   start_from=g.get("from") or None, start_to=g.get("to") or None)


@login_required
def report_archive(request, *, error: str = "", status: int = 200):
    actor = viewer(request)
    try:
        rows = selectors.report_list(actor=actor, filters=_filters(request))
    except ApplicationError as exc:
        error, status = error or error_text(exc), exc.status
        rows = selectors.report_list(actor=actor)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "supervision/report_archive.html", {
        "page": page, "reports": page.object_list, "kinds": KIND_CHOICES, "g": request.GET,
        "may_manage": not actor.scope(MANAGE_REPORTS).empty, "error": error,
        "query": request.GET.urlencode(),
    }, status=status)


def _report(request, report_id):
    try:
        return selectors.report_get_for(actor=viewer(request), report_id=report_id)
    except NotFound:
        raise Http404 from None


@login_required
def report_view(request, report_id: int):
    report = _report(request, report_id)
    return render(request, "supervision/report_view.html", {
        "report": report, "r": present(report.data, get_language()),
        "subscribed": selectors.is_subscribed(actor=request.user, series=report.series),
    })


def _download(name: str, filename: str, content_type: str):
    if not name or not default_storage.exists(name):
        raise Http404
    return FileResponse(default_storage.open(name, "rb"), as_attachment=True, filename=filename,
                        content_type=content_type)


@login_required
def report_pdf(request, report_id: int):
    report = _report(request, report_id)
    return _download(report.pdf(_language(request)),
                     f"{report.kind}-{report.series.area.code}-{report.period_start}.pdf",
                     "application/pdf")


def _language(request) -> str:
    return "en" if (request.GET.get("lang") or get_language() or "").startswith("en") \
        else "zh-hans"


@login_required
def report_csv(request, report_id: int):
    """The full tables in the reader's language, from the figures the report was made
    from (the archived CSV is the Chinese one; both read the same archived data)."""
    report = _report(request, report_id)
    if not report.csv:
        raise Http404
    response = HttpResponse(report_csv_text(report.data, _language(request)),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="{report.kind}-'
                                       f'{report.series.area.code}-{report.period_start}.csv"')
    return response


@login_required
def series_view(request, series_id: int):
    actor = viewer(request)
    try:
        series = selectors.series_get_for(actor=actor, series_id=series_id)
    except NotFound:
        raise Http404 from None
    return render(request, "supervision/series.html", {
        "series": series, "runs": selectors.series_runs(series=series),
        "readers": svc.series_readers_read(actor=actor, series=series),
        "reports": series.reports.defer("data").order_by("-period_start")[:60],
        "subscribed": selectors.is_subscribed(actor=actor, series=series),
        "may_manage": actor.has_perm_in(MANAGE_REPORTS, series.area_path),
    })


@login_required
@require_POST
def report_regenerate(request):
    actor = viewer(request)
    p = request.POST
    return act(request, request.POST.get("next") or "/supervision/reports/",
               lambda: svc.report_regenerate(actor=actor, kind=p.get("kind"), area=p.get("area"),
                                             period_start=p.get("period_start")),
               success=_("The report is being made; it replaces the old one when it is done."),
               page=lambda error, status: report_archive(request, error=error, status=status))


def _series_action(request, series_id, action, success):
    actor = viewer(request)
    try:
        series = selectors.series_get_for(actor=actor, series_id=series_id)
    except NotFound:
        raise Http404 from None
    return act(request, f"/supervision/reports/series/{series.pk}/",
               lambda: action(actor=actor, series=series), success=success)


@login_required
@require_POST
def series_subscribe(request, series_id: int):
    return _series_action(request, series_id, svc.report_subscribe,
                          _("Subscribed: you will be told of each new report."))


@login_required
@require_POST
def series_unsubscribe(request, series_id: int):
    return _series_action(request, series_id, svc.report_unsubscribe, _("Unsubscribed."))


@login_required
@require_POST
def series_own(request, series_id: int):
    return _series_action(request, series_id, svc.report_series_own,
                          _("You own this report: failures are reported to you."))
