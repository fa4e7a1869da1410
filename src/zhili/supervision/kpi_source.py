"""KPI figures for rules and reports, from the KPI registry's roll-ups.

A thin seam over `supervision.selectors` (the registry), read as the system
(`actor=None`): rules and scheduled reports act for no person. Tests replace
`kpi_figure` to stage a breach.
"""

from __future__ import annotations

from zhili.supervision import selectors


def kpi_figure(code: str, area, cadence: str, start) -> float | None:
    value = selectors.kpi_value(code, area, cadence, start).value
    return None if value is None else float(value)


def kpi_figures(code: str, area, cadence: str, starts) -> list[float | None]:
    """The KPI for each period start, oldest first (one query)."""
    return [None if v.value is None else float(v.value)
            for v in selectors.kpi_series(code, area, cadence, starts)]
