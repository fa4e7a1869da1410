"""Executing a forecast run: claim it, run the engine in its own process, keep what it
gave, raise the forecast warnings; and fail runs whose process died.

Kept apart from services.py so that tasks.py can wrap it without services and
tasks importing each other (services enqueues the task; services re-exports these).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.flood import engine, inp, selectors
from zhili.flood.models import FloodedNode, FloodRun, ModelNode

logger = logging.getLogger("zhili.flood")
STALE_AFTER = timedelta(seconds=90)  # no heartbeat for this long: the run's process is gone


def run_timeout_s() -> float:
    """Seconds a run's engine may take (ZHILI_FLOOD_RUN_TIMEOUT, default 600)."""
    return float(getattr(settings, "ZHILI_FLOOD_RUN_TIMEOUT", 600))


def _claim(run_id: int, now) -> bool:
    return FloodRun.objects.filter(pk=run_id, status=FloodRun.Status.QUEUED).update(
        status=FloodRun.Status.RUNNING, started_at=now, heartbeat_at=now, progress=0.0) == 1


def flood_run_execute(*, run_id: int, on_poll=None) -> FloodRun | None:
    """Claim a queued run, run the engine in its own process, keep what it gave.

    Nothing is written half: the flooded nodes, the warnings and the run's `done`
    commit together, or the run is `failed` with the reason. `on_poll(progress, proc)`
    is called while the engine runs (the CLI's progress, and tests that kill it).
    """
    if not _claim(run_id, timezone.now()):
        return None  # already taken, finished, or failed by the sweep
    run = FloodRun.objects.select_related("model").get(pk=run_id)
    series = [(datetime.fromisoformat(at), v) for at, v in run.rainfall]
    local = [(timezone.localtime(at).replace(tzinfo=None), v) for at, v in series]
    try:
        text = inp.with_rainfall(run.model.inp, series=local, step=timedelta(seconds=run.step_s))
    except Exception as exc:  # a model edited out of shape since its check
        logger.exception("flood run %s: input not written", run_id)
        return _fail(run_id, _("the model's input could not be written: %(e)s")
                     % {"e": str(exc)[:300]}, [], "", None)
    FloodRun.objects.filter(pk=run_id).update(inp=text)
    beat = {"at": 0.0}

    def started(pid):
        FloodRun.objects.filter(pk=run_id).update(engine_pid=pid)

    def poll(progress, proc):
        import time

        if time.monotonic() - beat["at"] >= 1.0:  # a heartbeat a second, not every poll
            beat["at"] = time.monotonic()
            FloodRun.objects.filter(pk=run_id, status=FloodRun.Status.RUNNING).update(
                progress=progress, heartbeat_at=timezone.now())
        if on_poll:
            on_poll(progress, proc)

    try:
        outcome = engine.run_engine(text, flow_units=run.model.flow_units,
                                    timeout_s=run_timeout_s(), on_start=started, on_poll=poll)
    except Exception as exc:  # the child could not even start: still a failed run
        logger.exception("flood run %s could not start", run_id)
        return _fail(run_id, str(exc)[:500], [], "", None)
    if not outcome.ok:
        error = outcome.error
        if outcome.timed_out:
            error = _("timed out after %(s)s s: the engine was stopped") % {
                "s": f"{run_timeout_s():g}"}
        elif outcome.returncode is not None and outcome.returncode < 0:
            error = _("the engine process was killed (signal %(n)d)") % {"n": -outcome.returncode}
        return _fail(run_id, error, outcome.error_lines, outcome.report, outcome.seconds)
    try:
        return _finish(run_id, outcome, start=series[0][0])
    except Exception as exc:
        logger.exception("flood run %s: results not stored", run_id)
        return _fail(run_id, _("the results could not be stored: %(e)s") % {"e": str(exc)[:300]},
                     [], outcome.report, outcome.seconds)


def _fail(run_id, error, lines, report, seconds) -> FloodRun:
    with transaction.atomic():
        run = FloodRun.objects.select_for_update().get(pk=run_id)
        if run.finished:
            return run
        run.status = FloodRun.Status.FAILED
        run.error = error or _("the run failed")
        run.error_lines = lines
        run.report = report[:2_000_000]
        run.duration_s = seconds
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "error_lines", "report", "duration_s",
                                "finished_at"])
        audit_record(actor=None, action="flood.run_fail", obj=run, detail={"error": run.error})
    return run


def level_for(thresholds: dict, volume_m3: float, hours: float, depth_m: float) -> int:
    """The highest level (1 blue … 4 red) any measure reaches; 0 below every threshold."""
    level = 0
    for measure, value in (("volume_m3", volume_m3), ("hours", hours), ("depth_m", depth_m)):
        for k, limit in enumerate(thresholds.get(measure) or []):
            if limit is not None and value >= float(limit):
                level = max(level, k + 1)
    return level


def _finish(run_id: int, outcome: engine.Outcome, *, start: datetime) -> FloodRun:
    from zhili.warning.services import warning_clear, warning_level_change, warning_raise

    result = outcome.result or {}
    now = timezone.now()
    with transaction.atomic():
        run = FloodRun.objects.select_for_update().select_related("model").get(pk=run_id)
        if run.finished:  # the sweep failed it meanwhile: keep that answer
            return run
        model = run.model
        nodes = {n.name: n for n in ModelNode.objects.filter(model=model)}
        thresholds = model.level_thresholds()
        flooded = {name: data for name, data in result.get("nodes", {}).items() if name in nodes}
        # Risk points near any node; each is warned once, by the model's node nearest to
        # it (a fixed node, so reruns update the same warning), at the highest level of
        # the flooded nodes within the radius.
        near = selectors.risk_points_near(
            area_path=model.area_path, categories=model.categories(), radius_m=model.risk_radius_m,
            points={name: (n.lon, n.lat) for name, n in nodes.items() if n.lon is not None})
        carrier: dict[str, tuple[float, str, object]] = {}  # risk point code -> (m, node, rp)
        for name, found in near.items():
            for metres, rp in found:
                if rp.code not in carrier or metres < carrier[rp.code][0]:
                    carrier[rp.code] = (metres, name, rp)
        open_warnings = selectors.open_forecast_warnings(model=model)
        rows: dict[str, FloodedNode] = {}
        for name, data in sorted(flooded.items()):
            rows[name] = FloodedNode(
                run=run, node=nodes[name], volume_m3=data["volume_m3"], hours=data["hours"],
                peak_depth_m=data["peak_depth_m"], peak_flow_m3s=data["peak_flow_m3s"],
                first_at=start + timedelta(seconds=data["first_s"]),
                peak_at=start + timedelta(seconds=data["peak_s"]),
                level=level_for(thresholds, data["volume_m3"], data["hours"],
                                data["peak_depth_m"]),
                risk_points=[rp.code for _d, rp in near.get(name, [])])
        touched = []
        for code, (metres, node_name, rp) in sorted(carrier.items()):
            causes = [row for row in rows.values() if row.level and code in row.risk_points]
            if not causes:
                continue
            worst = max(causes, key=lambda row: (row.level, row.volume_m3))
            first_at = min(row.first_at for row in causes)
            lead = max(0, round((first_at - now).total_seconds() / 60))
            condition = f"flood:{model.pk}:{node_name}"
            note = _("Forecast run %(r)s: %(k)d nodes near %(p)s flood, up to %(v).0f m³ for "
                     "%(h).1f h, from %(t)s") % {
                "r": run.pk, "k": len(causes), "p": rp.name, "v": worst.volume_m3,
                "h": worst.hours, "t": timezone.localtime(first_at).strftime("%m-%d %H:%M")}
            warning = open_warnings.pop(condition, None)
            if warning is None:
                warning = warning_raise(
                    risk_point=rp, level=worst.level, source="forecast", condition=condition,
                    value=worst.volume_m3, note=note,
                    data={"model": model.pk, "run": run.pk, "node": node_name,
                          "distance_m": metres, "flooded": [row.node.name for row in causes],
                          "volume_m3": worst.volume_m3, "hours": worst.hours,
                          "peak_depth_m": worst.peak_depth_m, "lead_minutes": lead,
                          "expected_at": first_at.isoformat()})
            else:
                warning = warning_level_change(warning=warning, level=worst.level,
                                               value=worst.volume_m3, note=note)
            for row in causes:
                row.warning = row.warning or warning.number
            touched.append(warning.number)
        # The forecast no longer floods near these: their forecast warnings close.
        for warning in open_warnings.values():
            warning_clear(warning=warning, at=now)
            touched.append(warning.number)
        rows = list(rows.values())
        FloodedNode.objects.bulk_create(rows)
        step = result.get("step_s", 300)
        flood = result.get("flood_m3s", [])
        run.status = FloodRun.Status.DONE
        run.progress = 1.0
        run.report = outcome.report[:2_000_000]
        run.error_lines = outcome.error_lines
        run.duration_s = outcome.seconds
        run.finished_at = now
        run.warnings = touched
        run.results = {"step_s": step, "rain_mm_h": result.get("rain_mm_h", []),
                       "flood_m3s": flood, "flooded_nodes": len(rows),
                       "flood_volume_m3": round(sum(q * step for q in flood), 1),
                       "nodes": len(nodes)}
        run.save(update_fields=["status", "progress", "report", "error_lines", "duration_s",
                                "finished_at", "warnings", "results"])
        audit_record(actor=None, action="flood.run_done", obj=run,
                     detail={"flooded": len(rows), "warnings": touched,
                             "seconds": round(outcome.seconds, 3)})
    return run


def flood_runs_stale_fail(*, now: datetime | None = None) -> int:
    """Runs still `running` whose heartbeat stopped (worker or engine killed): failed."""
    now = now or timezone.now()
    stale = list(FloodRun.objects.filter(status=FloodRun.Status.RUNNING,
                                         heartbeat_at__lt=now - STALE_AFTER)
                 .values_list("pk", "heartbeat_at"))
    for pk, beat in stale:
        seconds = round((now - beat).total_seconds())
        _fail(pk, _("no heartbeat for %(s)d s: the worker or the engine was killed")
              % {"s": seconds}, [], "", None)
    return len(stale)
