"""Flood writes: attach a drainage model, request a forecast run (executing it and
failing stale runs are runs.py's, re-exported here). Each in one transaction
with its audit row; the engine itself runs outside any transaction, in its own
process (engine.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core.errors import FieldError, PermissionDenied, ValidationFailed
from zhili.core.queue import enqueue_with_commit
from zhili.flood import engine, inp, rainfall, selectors
from zhili.flood.access import RUN
from zhili.flood.models import DrainageModel, FloodRun, ModelNode
from zhili.flood.runs import flood_run_execute, flood_runs_stale_fail, level_for  # noqa: F401

MAX_INP_BYTES = 20_000_000


# ---------------------------------------------------------------- drainage models
def inp_check(text: str, field: str = "inp") -> inp.Inp:
    """What an uploaded .inp must have, then the engine's own check in a child process.
    Refused with SWMM's `ERROR nnn … at line …` lines when the engine rejects it."""
    if not text or not text.strip():
        raise ValidationFailed([FieldError(field, _("the file is empty"))])
    if len(text.encode()) > MAX_INP_BYTES or "\x00" in text:
        raise ValidationFailed([FieldError(field, _("not a SWMM input file (binary or over 20 MB)"))])
    parsed = inp.parse(text)
    problems = []
    if not parsed.rows("JUNCTIONS"):
        problems.append(_("the model has no [JUNCTIONS]"))
    if not parsed.gauges_on_series():
        problems.append(_("no rain gauge in [RAINGAGES] reads a TIMESERIES: a run needs one "
                          "to take its rainfall"))
    if parsed.flow_units not in inp.UNITS:
        problems.append(_("FLOW_UNITS %(u)s is not one SWMM knows") % {"u": parsed.flow_units})
    coords = parsed.coordinates()
    if any(not (-180 <= x <= 180 and -90 <= y <= 90) for x, y in coords.values()):
        problems.append(_("[COORDINATES] must be WGS84 longitude and latitude (EPSG:4326); "
                          "these look projected"))
    if problems:
        raise ValidationFailed([FieldError(field, p) for p in problems])
    outcome = engine.run_engine(text, mode="check", flow_units=parsed.flow_units,
                                timeout_s=engine.CHECK_TIMEOUT_S)
    if not outcome.ok:
        lines = outcome.error_lines or [outcome.error or _("the engine refused the file")]
        raise ValidationFailed([FieldError(field, line) for line in lines[:20]],
                               detail=_("SWMM refused the input: %(e)s") % {"e": lines[0]})
    return parsed


def drainage_model_add(*, actor, area, name: str, inp_text: str, source_name: str = "",
                       synthetic: bool = False, thresholds: dict | None = None,
                       risk_radius_m: float | None = None) -> DrainageModel:
    """Attach a checked .inp to an area: its nodes placed by [COORDINATES] and located
    in the city's grids."""
    from zhili.geo.selectors import locate_points

    if actor is not None and not actor.scope(RUN).covers(area.path):
        raise PermissionDenied(_("Attaching a drainage model needs flood.run_flood on the area."))
    name = (name or "").strip()[:128]
    thresholds_check(thresholds or {})
    if not name:
        raise ValidationFailed([FieldError("name", _("give the model a name"))])
    parsed = inp_check(inp_text)
    coords = parsed.coordinates()
    nodes = parsed.junctions()
    placed = [n for n in nodes if n["name"] in coords]
    located = locate_points(points=[coords[n["name"]] for n in placed])
    grid_codes = {n["name"]: (found or {}).get("grid", {}) for n, found in zip(placed, located,
                                                                              strict=True)}
    from zhili.geo.models import AreaNode

    grids = {g.code: g for g in AreaNode.objects.filter(
        code__in={g["code"] for g in grid_codes.values() if g})}
    with transaction.atomic():
        model = DrainageModel.objects.create(
            area=area, area_path=area.path, name=name, inp=inp_text,
            source_name=source_name[:200], flow_units=parsed.flow_units, synthetic=synthetic,
            thresholds=thresholds or {}, junctions=len(parsed.rows("JUNCTIONS")),
            risk_radius_m=risk_radius_m or DrainageModel._meta.get_field("risk_radius_m").default,
            created_by=actor)
        ModelNode.objects.bulk_create([
            ModelNode(model=model, name=n["name"][:64], kind=n["kind"],
                      lon=coords.get(n["name"], (None, None))[0],
                      lat=coords.get(n["name"], (None, None))[1],
                      invert=n["invert"], max_depth=n["max_depth"],
                      grid=grids.get((grid_codes.get(n["name"]) or {}).get("code")))
            for n in nodes])
        audit_record(actor=actor, action="flood.model_add", obj=model,
                     detail={"name": name, "junctions": model.junctions,
                             "source": source_name[:200], "synthetic": synthetic})
    return model


MEASURES = ("volume_m3", "hours", "depth_m")


def thresholds_check(thresholds: dict) -> None:
    """{measure: [blue, yellow, orange, red]}, each a number or null, rising."""
    errors = []
    if not isinstance(thresholds, dict):
        raise ValidationFailed([FieldError("thresholds", _("an object of measures"))])
    for measure, limits in thresholds.items():
        if measure not in MEASURES:
            errors.append(FieldError("thresholds", _("%(m)s is not one of %(all)s")
                                     % {"m": str(measure)[:40], "all": ", ".join(MEASURES)}))
            continue
        numbers = [v for v in limits if v is not None] if isinstance(limits, list) else None
        if numbers is None or len(limits) != 4 or \
                any(isinstance(v, bool) or not isinstance(v, int | float) or v < 0
                    for v in numbers) or numbers != sorted(numbers):
            errors.append(FieldError("thresholds", _(
                "%(m)s: four numbers or nulls for blue, yellow, orange, red, rising")
                % {"m": measure}))
    if errors:
        raise ValidationFailed(errors)


def drainage_model_update(*, actor, model: DrainageModel, changed: list[str]) -> DrainageModel:
    """Save the admin's edits of a model's name, thresholds, radius, categories, activity."""
    if not actor.scope(RUN).covers(model.area_path):
        raise PermissionDenied(_("Changing a drainage model needs flood.run_flood on its area."))
    thresholds_check(model.thresholds or {})
    editable = {"name", "risk_radius_m", "thresholds", "risk_categories", "active"}
    fields = [f for f in changed if f in editable]
    with transaction.atomic():
        model.save(update_fields=fields or None)
        audit_record(actor=actor, action="flood.model_update", obj=model,
                     detail={"changed": fields})
    return model


# ---------------------------------------------------------------- forecast runs
def flood_run_request(*, actor, model: DrainageModel, rainfall_csv: str | None = None,
                      sensor_code: str | None = None, hours: float = 6,
                      scenario_mm: float | None = None, scenario_hours: float | None = None,
                      step_minutes: int = 10, now: datetime | None = None) -> FloodRun:
    """Check the rainfall (uploaded, or a gauge's last `hours` of readings), extend it by
    the scenario, and queue the run on the long lane."""
    now = now or timezone.now()
    if not actor.scope(RUN).covers(model.area_path):
        raise PermissionDenied(_("Running a forecast needs flood.run_flood on the model's area."))
    if bool(rainfall_csv and rainfall_csv.strip()) == bool(sensor_code):
        raise ValidationFailed([FieldError("rainfall", _(
            "give either a rainfall series (CSV) or a rain gauge, not both and not neither"))])
    if rainfall_csv:
        series = rainfall.parse_csv(rainfall_csv)
        source = FloodRun.Source.UPLOAD
    else:
        if not (0 < hours <= 72):
            raise ValidationFailed([FieldError("hours", _("from more than 0 to 72 hours"))])
        if not (1 <= step_minutes <= 60):
            raise ValidationFailed([FieldError("step_minutes", _("from 1 to 60 minutes"))])
        from zhili.core.errors import NotFound

        try:
            readings = selectors.gauge_readings(actor=actor, sensor_code=sensor_code,
                                                hours=hours, now=now)
        except NotFound:
            raise ValidationFailed([FieldError("sensor", _(
                "no rain gauge %(c)s in your area") % {"c": sensor_code[:64]})]) from None
        series = rainfall.from_readings(readings, step=timedelta(minutes=step_minutes),
                                        hours=hours, now=now)
        source = FloodRun.Source.GAUGE
    if (scenario_mm is None) != (scenario_hours is None):
        raise ValidationFailed([FieldError("scenario", _(
            "a scenario needs both its rain (mm) and its hours"))])
    scenario = ""
    if scenario_mm:
        series = rainfall.extend(series, mm=scenario_mm, hours=scenario_hours)
        scenario = f"+{scenario_mm:g} mm over {scenario_hours:g} h"
    step = rainfall.step_of(series)
    with transaction.atomic():
        run = FloodRun.objects.create(
            model=model, area_path=model.area_path, source=source,
            sensor_code=(sensor_code or "")[:64], scenario=scenario,
            rainfall=[[at.isoformat(), v] for at, v in series],
            step_s=int(step.total_seconds()), requested_by=actor, created_at=now)
        audit_record(actor=actor, action="flood.run_request", obj=run,
                     detail={"model": model.pk, "source": source, "scenario": scenario,
                             "rows": len(series)})
        from zhili.flood.tasks import flood_run_task

        enqueue_with_commit(flood_run_task, run.pk)
    return run
