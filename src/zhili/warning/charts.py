"""A readings chart as inline SVG: no script, no library, readable on a phone."""

from __future__ import annotations

from zhili.warning.models import LEVEL_COLOURS

WIDTH, HEIGHT, PAD = 640, 220, 36
COLOURS = {"blue": "#1f6feb", "yellow": "#d4a72c", "orange": "#e36209", "red": "#cf222e"}


def readings_svg(readings: list[tuple], lines: list[tuple[int, float]], unit: str) -> dict | None:
    """Points and threshold lines scaled into the chart box (the template draws them)."""
    if len(readings) < 2:
        return None
    times = [at.timestamp() for at, _ in readings]
    values = [v for _, v in readings]
    low = min(values + [v for _, v in lines])
    high = max(values + [v for _, v in lines])
    if high == low:
        high = low + 1
    t0, t1 = times[0], times[-1] if times[-1] > times[0] else times[0] + 1

    def x(t):
        return PAD + (t - t0) / (t1 - t0) * (WIDTH - 2 * PAD)

    def y(v):
        return HEIGHT - PAD - (v - low) / (high - low) * (HEIGHT - 2 * PAD)

    return {
        "width": WIDTH, "height": HEIGHT, "unit": unit,
        "points": " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(times, values, strict=True)),
        "lines": [{"y": f"{y(v):.1f}", "value": v, "colour": COLOURS[LEVEL_COLOURS[level]],
                   "level": level} for level, v in lines],
        "x0": PAD, "x1": WIDTH - PAD, "ybase": HEIGHT - PAD,
        "low": round(low, 2), "high": round(high, 2),
        "start": readings[0][0], "end": readings[-1][0],
    }
