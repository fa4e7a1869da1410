"""The KPI registry: every installed app's `kpis` and `kpi_sources`, assembled.

Apps declare their KPIs in their own `kpis.py` (core.plugins.Kpi) and name the
list on their AppConfig; this module resolves them once per app set. The
supervision app's own KPI, rescue-circle coverage, reads the emergency app's
public selector when that app provides one.
"""

from __future__ import annotations

import functools

from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhili.core.plugins import Kpi, KpiSource, registry, resolve

NO_RESCUE_DATA = gettext_lazy("not computed: no rescue-circle data")
NO_POPULATION_DATA = gettext_lazy("not computed: no grid of the area has a population figure")


def _coverage_summary():
    if not apps.is_installed("zhili.emergency"):
        return None
    try:
        from zhili.emergency import selectors
    except ImportError:
        return None
    return getattr(selectors, "coverage_summary", None)


def _rescue_summary(area_path: str) -> dict | None:
    summary = _coverage_summary()
    if summary is None:
        return None
    result = summary(area_path)
    return result if isinstance(result, dict) else {"share": result}


def rescue_coverage(area_path: str, start, end):
    """(share of the area's risk points inside every class's rescue circle, reason when
    None)."""
    result = _rescue_summary(area_path)
    share = result.get("share") if result is not None else None
    if share is None:
        return None, str(NO_RESCUE_DATA)
    return round(float(share), 4), ""


def rescue_population_coverage(area_path: str, start, end):
    """(share of the area's residents, in grids with a population figure, inside every
    class's rescue circle; reason when None: no run, or no grid with a figure)."""
    result = _rescue_summary(area_path)
    if result is None or result.get("run") is None:
        return None, str(NO_RESCUE_DATA)
    population = result.get("population")
    share = population.get("share") if isinstance(population, dict) else None
    if share is None:
        return None, str(NO_POPULATION_DATA)
    return round(float(share), 4), ""


KPIS = [
    Kpi(code="supervision.rescue_coverage", name=gettext_lazy("Rescue-circle coverage"),
        formula=gettext_lazy("share of the area's risk points inside every rescue circle "
                             "(air, ground and responders within their target times; the "
                             "emergency app's latest coverage run, as of now)"),
        unit="share", better="higher", reads="zhili.emergency.selectors", direct=rescue_coverage,
        empty=NO_RESCUE_DATA),
    Kpi(code="supervision.rescue_population_coverage",
        name=gettext_lazy("Rescue-circle coverage of residents"),
        formula=gettext_lazy("share of the area's residents inside every rescue circle (air, "
                             "ground and responders within their target times; grids without "
                             "a population figure left out; the emergency app's latest "
                             "coverage run, as of now)"),
        unit="share", better="higher", reads="zhili.emergency.selectors",
        direct=rescue_population_coverage, empty=NO_RESCUE_DATA),
]


def _assembled() -> tuple[dict[str, Kpi], dict[str, KpiSource]]:
    # registry() is rebuilt when INSTALLED_APPS changes (tests): follow it.
    return _assemble(id(registry()))


@functools.lru_cache(maxsize=4)
def _assemble(_registry_id: int) -> tuple[dict[str, Kpi], dict[str, KpiSource]]:
    kpis: dict[str, Kpi] = {}
    sources: dict[str, KpiSource] = {}
    for path in registry().kpis:
        for kpi in resolve(path):
            kpis[kpi.code] = kpi
    for path in registry().kpi_sources:
        for source in resolve(path):
            sources[source.name] = source
    return kpis, sources


def kpis() -> dict[str, Kpi]:
    return _assembled()[0]


def sources() -> dict[str, KpiSource]:
    return _assembled()[1]


def kpi_problem(code: str, *, scalar: bool = False) -> str | None:
    """Why `code` cannot be used (unknown, or not a single number), else None."""
    kpi = kpis().get(code)
    if kpi is None:
        return _("unknown KPI %(code)s") % {"code": code}
    if scalar and kpi.unit == "distribution":
        return _("KPI %(code)s is a distribution, not a single number") % {"code": code}
    return None
