"""The figures of grid governance, scoped to the actor's area.

Cases by status, board, category and area; the on-time rate of each step;
the median handling time; where cases were resolved; satisfaction; and the
share of disputes settled at street level or below (the seed's 98.2%).
The KPI figures among them (on-time rates, median, satisfaction, levels,
disputes) are governance/kpis.py's components and formulas applied to the
actor's visible, filtered cases: the supervision app rolls up the same.
"""

from __future__ import annotations

from django.db.models import Count, Q
from django.db.models.functions import Substr

from zhili.geo.models import AreaNode
from zhili.governance import kpis
from zhili.governance.access import VIEW
from zhili.governance.models import ResolutionLevel, Status
from zhili.governance.selectors import CaseFilters, area_path, case_list

# Length of the area path down to each depth (codes have fixed widths):
# "50/" 3, "50/500103/" 10, + "500103001/" 20, + 13 → 33, + 16 → 49.
PATH_LENGTHS = [3, 10, 20, 33, 49]
MAX_AREAS = 200


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
    scope = actor.scope(VIEW) if actor is not None and \
        getattr(actor, "is_authenticated", False) else None
    depth = _group_depth(scope.paths if scope else (), within)
    length = PATH_LENGTHS[depth]
    grouped = (rows.annotate(prefix=Substr("area_path", 1, length)).values("prefix")
               .annotate(n=Count("id")).order_by("-n")[:MAX_AREAS])
    prefixes = {g["prefix"]: g["n"] for g in grouped}
    names = {p: (c, n) for p, c, n in AreaNode.objects.filter(path__in=list(prefixes))
             .values_list("path", "code", "name")}
    by_area = [{"path": p, "code": names.get(p, ("", ""))[0], "name": names.get(p, ("", ""))[1],
                "count": n} for p, n in prefixes.items()]

    # The KPI components and formulas of governance/kpis.py: the same figures the
    # supervision app rolls up, here over the filtered cases.
    c = kpis.aggregate(rows)
    outcome = rows.filter(status=Status.CLOSED).aggregate(
        fixed=Count("id", filter=Q(outcome="fixed")),
        not_fixed=Count("id", filter=Q(outcome="not_fixed")))
    ratings = dict(rows.filter(rating__isnull=False).values_list("rating")
                   .annotate(n=Count("id")).values_list("rating", "n"))
    return {
        "total": total,
        "open": c["open"],
        "by_status": {s: by_status.get(s, 0) for s in Status.values},
        "by_board": by_board,
        "by_category": by_category,
        "by_area": by_area,
        "on_time_rate": {
            "accept": kpis.ratio(c, "accept_on", "accept_all"),
            "arrive": kpis.ratio(c, "arrive_on", "arrive_all"),
            "resolve": kpis.ratio(c, "resolve_on", "resolve_all"),
        },
        "median_handling_minutes": kpis.median_handling(c),
        "escalated": c["escalated"],
        "resolved_level": kpis.case_levels(c),
        "outcome": outcome,
        "satisfaction": {
            "rated": c["rated"],
            "average": kpis.satisfaction(c),
            "by_rating": {str(r): ratings.get(r, 0) for r in range(1, 6)},
        },
        "disputes": {
            "total": c["disputes"],
            "resolved": c["disputes_resolved"],
            "resolved_at_street_or_below": c["disputes_low"],
            "share_street_or_below": kpis.ratio(c, "disputes_low", "disputes_resolved"),
            "by_level": {lv: c.get(f"dispute_level.{lv}", 0) for lv in ResolutionLevel.values},
        },
    }
