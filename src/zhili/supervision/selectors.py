"""Supervision reads: KPI values per area and period, from the roll-up tables only.

Every function takes `actor`: a person's reads are limited to the areas they
hold `supervision.view_supervision` in (elsewhere is NotFound, like a missing
area); `actor=None` is the system itself (report and problem-rule tasks).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Sum
from django.utils.translation import gettext as _

from zhili.core.errors import NotFound, invalid
from zhili.core.plugins import Kpi
from zhili.core.scoping import scope_of
from zhili.supervision import kpis as registry
from zhili.supervision.models import RollupCell
from zhili.supervision.periods import check_start, day_bounds, period_end

VIEW = "supervision.view_supervision"
LEVEL_DEPTH = {"city": 1, "district": 2, "street": 3, "community": 4, "grid": 5}


@dataclass(frozen=True)
class KpiValue:
    """A KPI for one area and period: `value`, or None and the `reason` why."""

    kpi: Kpi
    area_path: str
    period: str
    start: date
    value: float | int | dict | None
    reason: str = ""

    @property
    def code(self) -> str:
        return self.kpi.code

    @property
    def computed(self) -> bool:
        return self.value is not None


def kpi_registry() -> list[Kpi]:
    """Every installed app's KPIs, in INSTALLED_APPS order."""
    return list(registry.kpis().values())


def kpi_get(code: str) -> Kpi:
    kpi = registry.kpis().get(code)
    if kpi is None:
        raise invalid("kpi", _("unknown KPI %(code)s") % {"code": code})
    return kpi


def _path(area) -> str:
    path = getattr(area, "path", area)
    if not isinstance(path, str) or not path.endswith("/"):
        raise invalid("area", _("must be an area path such as 50/500103/"))
    return path


def _check_scope(actor, path: str) -> None:
    if actor is None:
        return
    if not scope_of(actor, VIEW).covers(path):
        raise NotFound(_("No such area."))


def _summed(source: str, paths: list[str], first: date, end: date) -> dict[str, Counter]:
    out: dict[str, Counter] = defaultdict(Counter)
    rows = (RollupCell.objects.filter(source=source, area_path__in=paths, own=False,
                                      day__gte=first, day__lt=end)
            .values_list("area_path", "component").annotate(n=Sum("value")).order_by())
    for path, component, n in rows:
        out[path][component] = int(n)
    return out


def _evaluate(kpi: Kpi, components, path: str, period: str, start: date) -> KpiValue:
    if kpi.direct is not None:
        first, end = day_bounds(start)[0], day_bounds(period_end(period, start))[0]
        value, reason = kpi.direct(path, first, end)
    else:
        value = kpi.value(components)
        reason = "" if value is not None else str(kpi.empty or _("no data"))
    return KpiValue(kpi=kpi, area_path=path, period=period, start=start, value=value,
                    reason=reason)


def kpi_values(codes, area, period: str, start: date, *, actor=None) -> dict[str, KpiValue]:
    """Several KPIs of one area and period: one query per roll-up source."""
    path = _path(area)
    start = check_start(period, start)
    _check_scope(actor, path)
    chosen = [kpi_get(code) for code in codes]
    end = period_end(period, start)
    by_source = {s: _summed(s, [path], start, end)[path]
                 for s in {k.source for k in chosen if k.source}}
    return {k.code: _evaluate(k, by_source.get(k.source, Counter()), path, period, start)
            for k in chosen}


def kpi_value(code: str, area, period: str, start: date, *, actor=None) -> KpiValue:
    return kpi_values([code], area, period, start, actor=actor)[code]


def kpi_series(code: str, area, period: str, starts, *, actor=None) -> list[KpiValue]:
    """The KPI for each period start in `starts` (a trend), in that order."""
    path = _path(area)
    _check_scope(actor, path)
    kpi = kpi_get(code)
    starts = [check_start(period, s) for s in starts]
    if not starts:
        return []
    out = []
    if kpi.source:
        # One query for the whole range, split by period in Python.
        first, end = min(starts), period_end(period, max(starts))
        rows = (RollupCell.objects.filter(source=kpi.source, area_path=path, own=False,
                                          day__gte=first, day__lt=end)
                .values_list("day", "component").annotate(n=Sum("value")).order_by())
        by_day: dict[date, Counter] = defaultdict(Counter)
        for day, component, n in rows:
            by_day[day][component] = int(n)
        for s in starts:
            e = period_end(period, s)
            summed = Counter()
            for day, comps in by_day.items():
                if s <= day < e:
                    summed.update(comps)
            out.append(_evaluate(kpi, summed, path, period, s))
    else:
        out = [_evaluate(kpi, Counter(), path, period, s) for s in starts]
    return out


def kpi_by_area(code: str, paths: list[str], period: str, start: date, *,
                actor=None) -> dict[str, KpiValue]:
    """One KPI for several areas (a ranking or a breach scan): one query."""
    kpi = kpi_get(code)
    start = check_start(period, start)
    for path in paths:
        _check_scope(actor, _path(path))
    summed = _summed(kpi.source, paths, start, period_end(period, start)) if kpi.source else {}
    return {p: _evaluate(kpi, summed.get(p, Counter()), p, period, start) for p in paths}


def rolled_up_areas(*, level: str, within: str | None = None, source: str | None = None,
                    actor=None) -> list[str]:
    """Paths at `level` (street, district, …) that have roll-up data, under `within`."""
    if level not in LEVEL_DEPTH:
        raise invalid("level", _("must be one of city, district, street, community, grid"))
    rows = RollupCell.objects.filter(own=False)
    if source:
        rows = rows.filter(source=source)
    if within:
        rows = rows.filter(area_path__startswith=_path(within))
    scope = scope_of(actor, VIEW) if actor is not None else None
    depth = LEVEL_DEPTH[level]
    paths = sorted({p for p in rows.values_list("area_path", flat=True).distinct()
                    if p.count("/") == depth})
    return [p for p in paths if scope is None or scope.covers(p)]


def kpi_breaches(code: str, threshold: float, *, level: str, period: str, start: date,
                 within: str | None = None, actor=None) -> list[KpiValue]:
    """Areas at `level` whose KPI is on the wrong side of `threshold` (below it when
    higher is better, above it when lower is better), worst first. KPIs that cannot
    be computed for an area are not breaches."""
    kpi = kpi_get(code)
    if kpi.unit == "distribution" or kpi.better not in ("higher", "lower"):
        raise invalid("kpi", _("KPI %(code)s has no better direction") % {"code": code})
    paths = rolled_up_areas(level=level, within=within, source=kpi.source, actor=actor)
    values = kpi_by_area(code, paths, period, start, actor=actor).values()
    if kpi.better == "higher":
        hits = [v for v in values if v.value is not None and v.value < threshold]
        return sorted(hits, key=lambda v: v.value)
    hits = [v for v in values if v.value is not None and v.value > threshold]
    return sorted(hits, key=lambda v: -v.value)


def kpi_values_between(codes, area, first: date, end: date, *,
                       actor=None) -> dict[str, KpiValue]:
    """Several KPIs of one area over the local days `first` ≤ day < `end` (any range, not
    a calendar period): what other apps' figure pages show beside their breakdowns.
    The values carry `period="days"` and `start=first`."""
    path = _path(area)
    if not isinstance(first, date) or not isinstance(end, date) or end <= first:
        raise invalid("end", _("must be after the first day"))
    _check_scope(actor, path)
    chosen = [kpi_get(code) for code in codes]
    by_source = {s: _summed(s, [path], first, end)[path]
                 for s in {k.source for k in chosen if k.source}}
    out = {}
    for k in chosen:
        if k.direct is not None:
            value, reason = k.direct(path, day_bounds(first)[0], day_bounds(end)[0])
        else:
            value = k.value(by_source.get(k.source, Counter()))
            reason = "" if value is not None else str(k.empty or _("no data"))
        out[k.code] = KpiValue(kpi=k, area_path=path, period="days", start=first, value=value,
                               reason=reason)
    return out
