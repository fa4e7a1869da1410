"""Making a report: a recorded run, the files written first, then one swap.

`report_generate` records a `ReportRun` (committed at once, so a run that
dies is still seen), builds the figures, writes the new PDFs and CSV under
fresh names, and only then, in one transaction, points the period's
`Report` row at them and marks the run succeeded; the old files are deleted
after that commit. A failure at any step leaves the old report as it was,
marks the run failed with the reason and tells the series' owner. A worker
killed mid-run cannot do that: its run's heartbeat stops, and
`runs_stale_fail` (a sweep) marks it failed and tells the owner instead.

tasks.py wraps these; services.py enqueues those tasks (no import cycle).
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from datetime import date, timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from zhili.audit.services import audit_record
from zhili.core.i18n import localized
from zhili.notifications.services import notify
from zhili.supervision.access import MANAGE_REPORTS, users_holding
from zhili.supervision.kinds import KINDS, kind_label
from zhili.supervision.models import Report, ReportRun, ReportSeries, RunStatus

logger = logging.getLogger("zhili.supervision")

# A run whose heartbeat is older than this belongs to a worker that died.
STALE_AFTER = timedelta(minutes=10)
LANGUAGES = ("zh-hans", "en")
# Files under this directory that no Report row names, older than this, are orphans.
REPORTS_DIR = "supervision/reports"
ORPHAN_AGE = timedelta(hours=1)

# Why a run failed, as English msgids: stored with their parameters and rendered in the
# reader's language when read (`ReportRun.reason`).
FAILED = gettext_noop("The report could not be made: %(error)s")
STOPPED = gettext_noop("The worker stopped during the run (no heartbeat since %(at)s); the "
                       "previous report, if any, is kept.")
LOST = gettext_noop("The run was queued at %(at)s but its task is no longer in the queue, so "
                    "no worker will make it; regenerate the report to try again.")
# A queued run is looked at only after this long: its task row commits with it, so a
# younger run without one is impossible, and the bound keeps the sweep cheap.
LOST_AFTER = timedelta(minutes=10)


def _failure(msgid: str, **params) -> dict:
    """The run's failure fields: the msgid and parameters, and the English text."""
    with translation.override("en"):
        text = _(msgid) % params
    return {"error_msgid": msgid, "error_params": params, "error": text}


def series_for(kind: str, area) -> ReportSeries:
    """The (kind, area) series, made on first use (two workers make one)."""
    found = ReportSeries.objects.filter(kind=kind, area=area).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return ReportSeries.objects.create(kind=kind, area=area, area_path=area.path)
    except IntegrityError:
        return ReportSeries.objects.get(kind=kind, area=area)


def _beat(run: ReportRun) -> None:
    ReportRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        heartbeat_at=timezone.now())


def _owners(series: ReportSeries) -> list[int]:
    if series.owner_id:
        return [series.owner_id]
    return users_holding(permission=MANAGE_REPORTS, path=series.area_path)


def _names(series: ReportSeries, period_start: date) -> dict:
    """The title's parameters in the active language (each reader's, under notify)."""
    return {"kind": kind_label(series.kind), "area": localized(series.area, "name"),
            "start": period_start.isoformat()}


def _tell_failed(series: ReportSeries, run: ReportRun, period_start: date) -> None:
    notify(recipients=_owners(series), kind="report.failed",
           text=lambda _language: (
               _("Report %(kind)s for %(area)s (%(start)s) failed")
               % _names(series, period_start), run.reason[:300]),
           link=f"/supervision/reports/series/{series.pk}/",
           obj=series, dedupe=f"report-run:{run.pk}:failed")


def _write(report_name: str, suffix: str, content: bytes, written: list[str]) -> str:
    name = default_storage.save(f"{report_name}-{uuid.uuid4().hex[:12]}.{suffix}",
                                ContentFile(content))
    written.append(name)
    return name


def _claim(run_id: int | None, **fields) -> ReportRun:
    """The run asked for (`queued` → `running`), or a new one when there is none to take
    (a schedule, or a task that runs again after its worker died)."""
    now = timezone.now()
    if run_id is not None and ReportRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING, started_at=now, heartbeat_at=now):
        return ReportRun.objects.get(pk=run_id)
    return ReportRun.objects.create(started_at=now, heartbeat_at=now, **fields)


def report_generate(*, series: ReportSeries, period_start: date, trigger: str = "schedule",
                    requested_by=None, run_id: int | None = None) -> ReportRun:
    """Make (or remake) the series' report for the period starting `period_start`;
    `run_id` names the queued run a person asked for."""
    from zhili.supervision.reports.builders import report_build
    from zhili.supervision.reports.render import report_csv, report_pdf

    clock = time.monotonic()
    run = _claim(run_id, series=series, period_start=period_start, trigger=trigger,
                 requested_by=requested_by)
    written: list[str] = []
    try:
        data = report_build(series.kind, series.area, period_start)
        _beat(run)
        base = (f"supervision/reports/{series.kind}/{series.area.code}/"
                f"{period_start.isoformat()}")
        files = {}
        for language in LANGUAGES:
            files[language] = _write(f"{base}.{language}", "pdf", report_pdf(data, language),
                                     written)
            _beat(run)
        has_rows = any(t["rows"] for t in data["tables"])
        csv_name = _write(f"{base}.zh", "csv", report_csv(data, "zh-hans"), written) \
            if has_rows else ""
        with transaction.atomic():
            report = _swap(series, period_start, data, files, csv_name, run)
            run.status, run.finished_at = RunStatus.SUCCEEDED, timezone.now()
            run.duration_ms = int((time.monotonic() - clock) * 1000)
            run.save(update_fields=["status", "finished_at", "duration_ms"])
            audit_record(actor=requested_by, action="report.generate", obj=report,
                         area_path=series.area_path,
                         detail={"run": run.pk, "revision": report.revision, "trigger": trigger})
            readers = list(series.subscriptions.values_list("user_id", flat=True))
            notify(recipients=readers, kind="report.ready",
                   text=lambda _language: (_("New report: %(kind)s, %(area)s, %(start)s")
                                           % _names(series, period_start), ""),
                   link=f"/supervision/reports/{report.pk}/", obj=report,
                   dedupe=f"report:{report.pk}:r{report.revision}")
    except Exception as exc:
        _discard(written)
        logger.exception("report run %s failed", run.pk)
        run.status, run.finished_at = RunStatus.FAILED, timezone.now()
        run.duration_ms = int((time.monotonic() - clock) * 1000)
        failure = _failure(FAILED, error=f"{type(exc).__name__}: {exc}"[:1000])
        failure["error"] += "\n" + "".join(traceback.format_exception_only(exc))[-500:]
        for name, value in failure.items():
            setattr(run, name, value)
        ReportRun.objects.filter(pk=run.pk).update(
            status=run.status, finished_at=run.finished_at, duration_ms=run.duration_ms,
            **failure)
        _tell_failed(series, run, period_start)
    return run


def _swap(series, period_start, data, files, csv_name, run) -> Report:
    """Point the period's row at the new files; the old ones go after the commit."""
    from zhili.supervision import periods as P

    report = Report.objects.select_for_update().filter(series=series,
                                                       period_start=period_start).first()
    fields = dict(data=data, empty=bool(data.get("empty")), pdf_zh=files["zh-hans"],
                  pdf_en=files["en"], csv=csv_name, generated_at=timezone.now(), run=run)
    if report is None:
        return Report.objects.create(
            series=series, kind=series.kind, area_path=series.area_path,
            period_start=period_start, period_end=P.period_end(KINDS[series.kind].cadence,
                                                               period_start), **fields)
    old = [n for n in (report.pdf_zh, report.pdf_en, report.csv) if n]
    for name, value in fields.items():
        setattr(report, name, value)
    report.revision += 1
    report.save()
    transaction.on_commit(lambda: _discard(old))
    return report


def _discard(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:  # an orphan file is harmless; a crash here is not
            pass


def _fail_and_tell(run: ReportRun, *, was: str, msgid: str, since, now) -> bool:
    """Fail `run` if it is still `was` (conditional: of two sweeps, or a sweep and a
    worker, one wins) and tell its owners; True if this call failed it."""
    failure = _failure(msgid, at=timezone.localtime(since).isoformat(timespec="seconds"))
    if not ReportRun.objects.filter(pk=run.pk, status=was).update(
            status=RunStatus.FAILED, finished_at=now, **failure):
        return False
    for name, value in failure.items():
        setattr(run, name, value)
    _tell_failed(run.series, run, run.period_start)
    return True


def runs_stale_fail(now=None) -> int:
    """Mark runs whose worker stopped beating as failed, and tell their owners."""
    now = now or timezone.now()
    stale = ReportRun.objects.filter(status=RunStatus.RUNNING,
                                     heartbeat_at__lt=now - STALE_AFTER).select_related(
                                         "series__area")
    return sum(_fail_and_tell(run, was=RunStatus.RUNNING, msgid=STOPPED,
                              since=run.heartbeat_at, now=now) for run in stale)


def _queued_run_ids() -> set[int] | None:
    """The run ids of report tasks still waiting or running in the database queue;
    None when the queue is not in the database (nothing can be said then)."""
    from django_tasks import TaskResultStatus
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from zhili.supervision.tasks import report_generate_task

    if not isinstance(report_generate_task.get_backend(), DatabaseBackend):
        return None
    live = set()
    rows = DBTaskResult.objects.filter(
        task_path=report_generate_task.module_path,
        status__in=(TaskResultStatus.READY, TaskResultStatus.RUNNING)).values_list("args_kwargs", flat=True)
    for args_kwargs in rows:
        args, kwargs = args_kwargs.get("args", []), args_kwargs.get("kwargs", {})
        run_id = kwargs.get("run_id", args[4] if len(args) > 4 else None)
        if run_id is not None:
            live.add(int(run_id))
    return live


def runs_lost_fail(now=None) -> int:
    """Mark queued runs whose task left the queue untaken (deleted by hand, or failed
    before it took the run) as failed, and tell their owners; the old report is kept."""
    now = now or timezone.now()
    old = list(ReportRun.objects.filter(status=RunStatus.QUEUED,
                                        started_at__lt=now - LOST_AFTER).select_related(
                                            "series__area"))
    if not old:
        return 0
    live = _queued_run_ids()
    if live is None:
        return 0
    # A run still named by a waiting task is only waiting its turn in a busy lane.
    return sum(_fail_and_tell(run, was=RunStatus.QUEUED, msgid=LOST, since=run.started_at,
                              now=now) for run in old if run.pk not in live)


def _stored_files(directory: str):
    """(name, modified) of every file under `directory` in the default storage."""
    try:
        folders, files = default_storage.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        path = f"{directory}/{name}"
        try:
            yield path, default_storage.get_modified_time(path)
        except (FileNotFoundError, OSError):  # deleted meanwhile
            continue
    for folder in folders:
        yield from _stored_files(f"{directory}/{folder}")


def orphan_files_sweep(now=None) -> int:
    """Delete report files no `Report` row names and older than `ORPHAN_AGE`.

    A run killed between writing its files and its commit leaves such files (the
    commit never pointed a row at them). The age keeps a run still in progress safe:
    its files are minutes old, and a run silent for `STALE_AFTER` is failed anyway."""
    now = now or timezone.now()
    cutoff = now - ORPHAN_AGE
    candidates = [name for name, modified in _stored_files(REPORTS_DIR) if modified < cutoff]
    if not candidates:
        return 0
    named: set[str] = set()
    for i in range(0, len(candidates), 500):
        chunk = candidates[i:i + 500]
        for row in Report.objects.filter(
                models.Q(pdf_zh__in=chunk) | models.Q(pdf_en__in=chunk) | models.Q(csv__in=chunk)
        ).values_list("pdf_zh", "pdf_en", "csv"):
            named.update(row)
    orphans = [name for name in candidates if name not in named]
    _discard(orphans)
    if orphans:
        logger.info("deleted %d orphan report files", len(orphans))
    return len(orphans)


def series_due(cadence: str) -> list[ReportSeries]:
    """Every series the calendar makes for this cadence: each kind's areas at its level."""
    from zhili.supervision.areas import areas_at_level

    out = []
    for kind in KINDS.values():
        if kind.cadence == cadence:
            out.extend(series_for(kind.code, area) for area in areas_at_level(kind.level))
    return out
