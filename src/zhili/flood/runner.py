"""The engine's side of a run: `python -m zhili.flood.runner DIR check|run [FLOW_UNITS]`.

One process per run because pyswmm allows one simulation per process (a
second raises MultiSimulationError) and so that a stuck or crashed engine
takes only this process with it. No Django here: the parent owns the
database. Reads DIR/model.inp, writes DIR/model.rpt and model.out, reports
progress as a number in DIR/progress, and the results as DIR/result.json.
`check` only opens the input (the engine parses and checks every section)
and closes it: the upload check.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

PROGRESS_EVERY_S = 900  # simulated seconds between progress reports


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def check(workdir: Path) -> None:
    from swmm.toolkit import solver

    inp, rpt, out = (str(workdir / f"model.{ext}") for ext in ("inp", "rpt", "out"))
    solver.swmm_open(inp, rpt, out)
    solver.swmm_close()


def run(workdir: Path, units: str) -> None:
    from pyswmm import Simulation

    inp = workdir / "model.inp"
    with Simulation(str(inp), str(workdir / "model.rpt"), str(workdir / "model.out")) as sim:
        sim.step_advance(PROGRESS_EVERY_S)
        for _ in sim:
            _write(workdir / "progress", f"{sim.percent_complete:.4f}")
        _write(workdir / "progress", "1")
    _write(workdir / "result.json", json.dumps(results(workdir, units)))


def results(workdir: Path, units: str = "CMS") -> dict:
    """Per node: flood volume (m3), hours flooded, peak depth (m), times; the system's
    rainfall and flooding series. Read from the binary output with swmm.toolkit."""
    from swmm.toolkit import output, shared_enum

    flow_factor, depth_factor = {"CMS": (1.0, 1.0), "LPS": (0.001, 1.0),
                                 "MLD": (1000 / 86400, 1.0), "CFS": (0.0283168, 0.3048),
                                 "GPM": (6.30902e-5, 0.3048),
                                 "MGD": (0.0438126, 0.3048)}.get(units, (1.0, 1.0))
    handle = output.init()
    output.open(handle, str(workdir / "model.out"))
    try:
        nper = output.get_times(handle, shared_enum.Time.NUM_PERIODS)
        step = output.get_times(handle, shared_enum.Time.REPORT_STEP)
        start = output.get_start_date(handle)  # days since 1899-12-30
        nodes = output.get_proj_size(handle)[1]
        flooded = {}
        for k in range(nodes):
            name = output.get_elem_name(handle, shared_enum.ElementType.NODE, k)
            flood = output.get_node_series(handle, k, shared_enum.NodeAttribute.FLOODING_LOSSES,
                                           0, nper - 1)
            depth = output.get_node_series(handle, k, shared_enum.NodeAttribute.INVERT_DEPTH,
                                           0, nper - 1)
            wet = [i for i, q in enumerate(flood) if q > 1e-6]
            if not wet:
                continue
            peak = max(range(len(flood)), key=lambda i: flood[i])
            flooded[name] = {
                "volume_m3": round(sum(q for q in flood if q > 0) * flow_factor * step, 3),
                "hours": round(len(wet) * step / 3600, 3),
                "peak_depth_m": round(max(depth) * depth_factor, 3),
                "peak_flow_m3s": round(flood[peak] * flow_factor, 5),
                "first_s": wet[0] * step + step, "peak_s": peak * step + step,
            }
        rain = output.get_system_series(handle, shared_enum.SystemAttribute.RAINFALL, 0, nper - 1)
        lost = output.get_system_series(handle, shared_enum.SystemAttribute.FLOOD_LOSSES,
                                        0, nper - 1)
        return {"start_days": start, "step_s": step, "periods": nper, "nodes": flooded,
                "rain_mm_h": [round(v, 3) for v in rain],
                "flood_m3s": [round(v * flow_factor, 5) for v in lost]}
    finally:
        output.close(handle)


def main() -> int:
    workdir = Path(sys.argv[1])
    if sys.argv[2] == "check":
        check(workdir)
    else:
        run(workdir, sys.argv[3] if len(sys.argv) > 3 else "CMS")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # SWMM's errors are bare Exceptions; the detail is in the .rpt
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(2)
