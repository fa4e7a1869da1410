"""The figures of grid governance, scoped to the actor's area.

Two parts. The *breakdowns* are counts over the actor's visible cases under any
filter (board, category, status, dates …): cases by status, board, category and
area; closed fixed or not; escalated; the level each was resolved at; ratings
1–5; disputes recorded, settled, settled at street level or below, by level.
The KPI layer holds none of these per board or category, so they are counted
here, with the component definitions of governance/kpis.py.

The *KPIs* (on-time rate per step, median handling time, satisfaction, the
share of disputes settled at street level or below — the seed's 98.2% — …)
are not computed here: they are read from the supervision app's roll-ups
(`supervision.selectors.kpi_values_between`) for the area and the local days
the filters name. The roll-ups take no board or category, and whole days only;
`kpis.ignored` names the filters they did not apply.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.apps import apps
from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.scoping import scope_of
from zhili.geo.models import AreaNode
from zhili.governance import kpis
from zhili.governance.access import VIEW
from zhili.governance.models import LADDER, ResolutionLevel, Status
from zhili.governance.selectors import CaseFilters, area_path, case_list

# Length of the area path down to each depth (codes have fixed widths):
# "50/" 3, "50/500103/" 10, + "500103001/" 20, + 13 → 33, + 16 → 49.
PATH_LENGTHS = [3, 10, 20, 33, 49]
MAX_AREAS = 200
# The counts taken as they are from governance/kpis.py's components.
COUNTS = ("open", "escalated", "rated", "disputes", "disputes_resolved", "disputes_low")
# The KPIs the page shows, by the key the figures have always used.
KPI_CODES = {
    "cases": "governance.cases",
    "open_cases": "governance.open_cases",
    "on_time_accept": "governance.on_time_accept",
    "on_time_arrive": "governance.on_time_arrive",
    "on_time_resolve": "governance.on_time_resolve",
    "median_handling": "governance.median_handling",
    "resolved_street_or_below": "governance.resolved_street_or_below",
    "satisfaction": "governance.satisfaction",
    "reopen_rate": "governance.reopen_rate",
    "escalated": "governance.escalated",
    "disputes": "governance.disputes",
    "disputes_street_or_below": "governance.disputes_street_or_below",
}
# Filters the roll-ups answer (area, days); any other set is named in `ignored`.
KPI_FILTERS = {"area", "created_from", "created_to"}
FIRST_DAY = date(2000, 1, 1)


def _group_depth(rows_scope_paths: tuple[str, ...], area_path: str | None) -> int:
    """Group by the level just below the area asked for (or the actor's widest area)."""
    if area_path:
        depth = len(area_path.strip("/").split("/"))
    elif rows_scope_paths:
        depth = min(len(p.strip("/").split("/")) for p in rows_scope_paths)
    else:
        depth = 1
    return min(depth, len(PATH_LENGTHS) - 1)


def case_figures(*, actor, filters=None, now=None) -> dict:
    filters = filters or CaseFilters()
    rows = case_list(actor=actor, filters=filters, now=now).order_by()
    by_status = dict(rows.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    total = sum(by_status.values())
    by_board = dict(rows.values_list("category__board").annotate(n=Count("id"))
                    .values_list("category__board", "n"))
    by_category = [
        {"code": code, "name": name, "name_en": name_en, "count": n}
        for code, name, name_en, n in rows.values_list("category__code", "category__name",
                                                       "category__name_en")
        .annotate(n=Count("id")).order_by("-n", "category__code")[:50]
    ]
    # By area: the children of the area asked for (or of the actor's own area).
    within = area_path(filters.area) if filters.area else None
    scope = scope_of(actor, VIEW)
    depth = _group_depth(scope.paths, within)
    length = PATH_LENGTHS[depth]
    grouped = (rows.annotate(prefix=Substr("area_path", 1, length)).values("prefix")
               .annotate(n=Count("id")).order_by("-n")[:MAX_AREAS])
    prefixes = {g["prefix"]: g["n"] for g in grouped}
    names = {p: (c, n) for p, c, n in AreaNode.objects.filter(path__in=list(prefixes))
             .values_list("path", "code", "name")}
    by_area = [{"path": p, "code": names.get(p, ("", ""))[0], "name": names.get(p, ("", ""))[1],
                "count": n} for p, n in prefixes.items()]

    c = rows.aggregate(**{k: kpis.AGGREGATES[k] for k in COUNTS},
                       fixed=Count("id", filter=Q(status=Status.CLOSED, outcome="fixed")),
                       not_fixed=Count("id", filter=Q(status=Status.CLOSED,
                                                      outcome="not_fixed")))
    ratings = dict(rows.filter(rating__isnull=False).values_list("rating")
                   .annotate(n=Count("id")).values_list("rating", "n"))
    levels = dict(rows.exclude(resolved_level="").values_list("resolved_level")
                  .annotate(n=Count("id")).values_list("resolved_level", "n"))
    dispute_levels = dict(rows.exclude(dispute__isnull=True).exclude(dispute__resolution_level="")
                          .values_list("dispute__resolution_level").annotate(n=Count("id"))
                          .values_list("dispute__resolution_level", "n"))
    k = kpi_figures(actor=actor, filters=filters, within=within, now=now)
    value = {key: k["values"][key]["value"] for key in KPI_CODES}
    return {
        "total": total,
        "open": c["open"],
        "by_status": {s: by_status.get(s, 0) for s in Status.values},
        "by_board": by_board,
        "by_category": by_category,
        "by_area": by_area,
        "escalated": c["escalated"],
        "resolved_level": {lv: levels.get(lv, 0) for lv in LADDER},
        "outcome": {"fixed": c["fixed"], "not_fixed": c["not_fixed"]},
        # From the KPI roll-ups (see `kpis`), under the keys they have always had.
        "on_time_rate": {"accept": value["on_time_accept"], "arrive": value["on_time_arrive"],
                         "resolve": value["on_time_resolve"]},
        "median_handling_minutes": value["median_handling"],
        "satisfaction": {
            "rated": c["rated"],
            "average": value["satisfaction"],
            "by_rating": {str(r): ratings.get(r, 0) for r in range(1, 6)},
        },
        "disputes": {
            "total": c["disputes"],
            "resolved": c["disputes_resolved"],
            "resolved_at_street_or_below": c["disputes_low"],
            "share_street_or_below": value["disputes_street_or_below"],
            "by_level": {lv: dispute_levels.get(lv, 0) for lv in ResolutionLevel.values},
        },
        "kpis": k,
    }


def _kpi_area(actor, within: str | None) -> tuple[str | None, str]:
    """The area whose KPIs the figures show: the one asked for, else the actor's own."""
    scope = scope_of(actor, VIEW)
    if within:
        return (within, "") if scope.covers(within) else (None, _("not in your area"))
    if scope.everywhere:
        city = AreaNode.objects.filter(level="city").values_list("path", flat=True).first()
        return city, "" if city else _("no city")
    if len(scope.paths) == 1:
        return scope.paths[0], ""
    if not scope.paths:
        return None, _("not in your area")
    return None, _("choose an area to see its KPIs")


def _days(filters, now) -> tuple[date, date]:
    """The whole local days the date filters touch: first ≤ day < end."""
    today = timezone.localdate(now or timezone.now())
    first = timezone.localdate(filters.created_from) if filters.created_from else FIRST_DAY
    end = (timezone.localdate(filters.created_to - timedelta(microseconds=1)) + timedelta(days=1)
           if filters.created_to else today + timedelta(days=1))
    return first, max(end, first + timedelta(days=1))


def kpi_figures(*, actor, filters=None, within: str | None = None, now=None) -> dict:
    """governance's KPIs for the filtered area and days, from supervision's roll-ups.

    Read as the system once this app has checked the area is the actor's (a grid
    worker sees the KPIs of their grid without a supervision role). Without the
    supervision app, every value is null with the reason."""
    filters = filters or CaseFilters()
    if within is None and filters.area:
        within = area_path(filters.area)
    path, reason = _kpi_area(actor, within)
    first, end = _days(filters, now)
    ignored = sorted(name for name, v in vars(filters).items()
                     if v not in (None, False, [], "") and name not in KPI_FILTERS)
    values: dict = {}
    if path and apps.is_installed("zhili.supervision"):
        from zhili.supervision.selectors import kpi_values_between

        found = kpi_values_between(list(KPI_CODES.values()), path, first, end)
        values = {key: {"code": code, "value": found[code].value, "reason": found[code].reason}
                  for key, code in KPI_CODES.items()}
    elif path:
        reason = _("no KPI roll-ups: the supervision app is not installed")
    if not values:
        values = {key: {"code": code, "value": None, "reason": reason}
                  for key, code in KPI_CODES.items()}
    return {"area": path, "first_day": first, "end_day": end, "ignored": ignored,
            "values": values}
