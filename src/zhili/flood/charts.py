"""The run's chart as inline SVG made here: rainfall (bars, mm/h) over the system's
flooding rate (a line, m³/s), on one time axis. No script, no library."""

from __future__ import annotations

from datetime import datetime, timedelta

WIDTH, HEIGHT, PAD = 640, 240, 40


def run_chart(run) -> dict | None:
    results = run.results or {}
    rain = results.get("rain_mm_h") or [v for _at, v in run.rainfall]
    flood = results.get("flood_m3s") or []
    if len(rain) < 2:
        return None
    step = results.get("step_s") or run.step_s
    start = datetime.fromisoformat(run.rainfall[0][0])
    n = max(len(rain), len(flood))
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    bar_w = inner_w / n
    rain_top = max(max(rain), 1.0)
    flood_top = max(max(flood, default=0.0), 1e-6)
    bars = [{"x": f"{PAD + k * bar_w:.1f}", "w": f"{max(bar_w - 0.5, 0.5):.1f}",
             "y": f"{PAD + inner_h * (1 - v / rain_top):.1f}",
             "h": f"{inner_h * v / rain_top:.1f}"} for k, v in enumerate(rain) if v > 0]
    points = " ".join(f"{PAD + (k + 0.5) * bar_w:.1f},{PAD + inner_h * (1 - q / flood_top):.1f}"
                      for k, q in enumerate(flood))
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "points": points,
            "x0": PAD, "x1": WIDTH - PAD, "y0": PAD, "ybase": HEIGHT - PAD,
            "rain_top": round(rain_top, 1), "flood_top": round(flood_top, 3),
            "has_flood": any(q > 0 for q in flood),
            "start": start, "end": start + timedelta(seconds=step * n)}
