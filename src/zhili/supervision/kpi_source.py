"""One figure of a KPI for an area and period, for rules and reports.

Until the KPI registry (supervision.selectors, the kpis side of this app)
serves these codes from its roll-ups, they are computed here from
governance's figures (`governance.figures.case_figures`), read as the area.
"""

from __future__ import annotations

from zhili.supervision import periods as P
from zhili.supervision.areas import AreaReader

# code -> how to read it off case_figures()
FALLBACK = {
    "governance.on_time_accept": lambda f: f["on_time_rate"]["accept"],
    "governance.on_time_arrive": lambda f: f["on_time_rate"]["arrive"],
    "governance.on_time_resolve": lambda f: f["on_time_rate"]["resolve"],
    "governance.cases": lambda f: f["total"],
    "governance.satisfaction": lambda f: f["satisfaction"]["average"],
    "governance.disputes_street_or_below": lambda f: f["disputes"]["share_street_or_below"],
}


def area_figures(area, cadence: str, start) -> dict:
    from zhili.governance.figures import case_figures
    from zhili.governance.selectors import CaseFilters

    begin, end = P.bounds(cadence, start)
    return case_figures(actor=AreaReader(area),
                        filters=CaseFilters(created_from=begin, created_to=end))


def kpi_figure(code: str, area, cadence: str, start) -> float | None:
    read = FALLBACK.get(code)
    if read is None:
        raise ValueError(f"unknown KPI {code!r}")
    value = read(area_figures(area, cadence, start))
    return None if value is None else float(value)
