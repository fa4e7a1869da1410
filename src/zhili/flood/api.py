"""/api/v1/flood: drainage models, forecast runs (create, status, results)."""

from __future__ import annotations

from ninja import Path, Router
from ninja.responses import Status

from zhili.core.errors import PermissionDenied
from zhili.core.schemas import ERRORS, WRITE_ERRORS
from zhili.flood import selectors, services
from zhili.flood.schemas import FloodModelOut, FloodResultsOut, FloodRunIn, FloodRunOut

router = Router(tags=["flood"])
MAX_ID = 2**63 - 1


def _viewer(request):
    if request.auth.scope(selectors.VIEW).empty:
        raise PermissionDenied()
    return request.auth


def run_out(run) -> dict:
    return {"id": run.pk, "model": run.model_id, "status": run.status, "progress": run.progress,
            "source": run.source, "sensor": run.sensor_code, "scenario": run.scenario,
            "created_at": run.created_at, "started_at": run.started_at,
            "finished_at": run.finished_at, "duration_s": run.duration_s, "error": run.error,
            "error_lines": run.error_lines, "warnings": run.warnings}


@router.get("/models", response={200: list[FloodModelOut], **ERRORS},
            summary="The drainage models of your area")
def model_list(request):
    return [{"id": m.pk, "name": m.name, "area": m.area.code, "junctions": m.junctions,
             "synthetic": m.synthetic, "crs": m.crs}
            for m in selectors.model_list(actor=_viewer(request))]


@router.post("/runs", response={202: FloodRunOut, **WRITE_ERRORS},
             summary="Queue a forecast run")
def run_create(request, body: FloodRunIn):
    """Give `rainfall_csv` or `sensor` (one of the two), optionally a scenario. The
    series is checked first (a gap, a negative value or a time out of order is a 422
    naming its row); the run itself happens on the worker's long lane: poll
    `GET /runs/{id}`. Needs `flood.run_flood` on the model's area (403 without it
    anywhere, 404 for a model outside your area)."""
    actor = request.auth
    if actor.scope(selectors.RUN).empty:
        raise PermissionDenied()
    model = selectors.model_get(actor=actor, model_id=body.model, permission=selectors.RUN)
    run = services.flood_run_request(
        actor=actor, model=model, rainfall_csv=body.rainfall_csv, sensor_code=body.sensor,
        hours=body.hours, step_minutes=body.step_minutes, scenario_mm=body.scenario_mm,
        scenario_hours=body.scenario_hours)
    return Status(202, run_out(run))


@router.get("/runs/{run_id}", response={200: FloodRunOut, **ERRORS},
            summary="A run's status and progress")
def run_status(request, run_id: int = Path(..., ge=1, le=MAX_ID)):
    return run_out(selectors.run_get(actor=_viewer(request), run_id=run_id))


@router.get("/runs/{run_id}/results", response={200: FloodResultsOut, **ERRORS},
            summary="A run's flooded nodes and series")
def run_results(request, run_id: int = Path(..., ge=1, le=MAX_ID)):
    """Empty `flooded` until the run is done."""
    run = selectors.run_get(actor=_viewer(request), run_id=run_id)
    flooded = [{"node": f.node.name, "lon": f.node.lon, "lat": f.node.lat,
                "grid": f.node.grid.code if f.node.grid else None, "volume_m3": f.volume_m3,
                "hours": f.hours, "peak_depth_m": f.peak_depth_m, "first_at": f.first_at,
                "peak_at": f.peak_at, "level": f.level, "risk_points": f.risk_points,
                "warning": f.warning} for f in selectors.flooded_nodes(run=run)]
    return {"run": run_out(run), "rainfall": run.rainfall, "step_s": run.step_s,
            "flood_m3s": (run.results or {}).get("flood_m3s", []), "flooded": flooded}
