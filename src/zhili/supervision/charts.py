"""Sparklines as inline SVG made on the server: no script, no library, no CDN."""

from __future__ import annotations

WIDTH, HEIGHT, PAD = 120, 32, 3


def sparkline(values: list[float | None]) -> dict | None:
    """Polyline points of the computed values (gaps skipped); None with fewer than two."""
    known = [(i, v) for i, v in enumerate(values) if isinstance(v, int | float)]
    if len(known) < 2:
        return None
    low, high = min(v for _, v in known), max(v for _, v in known)
    span = (high - low) or 1
    step = (WIDTH - 2 * PAD) / max(1, len(values) - 1)

    def y(v):
        return HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD)

    points = [(PAD + i * step, y(v)) for i, v in known]
    last_x, last_y = points[-1]
    return {"width": WIDTH, "height": HEIGHT,
            "points": " ".join(f"{x:.1f},{yy:.1f}" for x, yy in points),
            "last_x": f"{last_x:.1f}", "last_y": f"{last_y:.1f}"}
