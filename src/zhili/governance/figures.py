"""The figures of grid governance, scoped to the actor's area.

Cases by status, board, category and area; the on-time rate of each step;
the median handling time; where cases were resolved; satisfaction; and the
share of disputes settled at street level or below (the seed's 98.2%).
Each is one aggregate query over the actor's visible cases.
"""

from __future__ import annotations

from django.db.models import Avg, Count, Q
from django.db.models.functions import Substr

from zhili.geo.models import AreaNode
from zhili.governance.access import VIEW
from zhili.governance.models import (
    LADDER,
    OPEN_STATUSES,
    STREET_OR_BELOW,
    Dispute,
    ResolutionLevel,
    Status,
)
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


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


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

    timing = rows.aggregate(
        accept_on=Count("id", filter=Q(accept_on_time=True)),
        accept_all=Count("id", filter=Q(accept_on_time__isnull=False)),
        arrive_on=Count("id", filter=Q(arrive_on_time=True)),
        arrive_all=Count("id", filter=Q(arrive_on_time__isnull=False)),
        resolve_on=Count("id", filter=Q(resolve_on_time=True)),
        resolve_all=Count("id", filter=Q(resolve_on_time__isnull=False)),
        rated=Count("id", filter=Q(rating__isnull=False)),
        rating_avg=Avg("rating"),
        escalated=Count("id", filter=~Q(highest_level="grid")),
        open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        fixed=Count("id", filter=Q(status=Status.CLOSED, outcome="fixed")),
        not_fixed=Count("id", filter=Q(status=Status.CLOSED, outcome="not_fixed")),
    )
    # Median handling time: the middle row by handling_minutes (two small queries,
    # the same on SQLite and PostgreSQL).
    handled = rows.filter(handling_minutes__isnull=False)
    n_handled = handled.count()
    median = None
    if n_handled:
        median = handled.order_by("handling_minutes").values_list(
            "handling_minutes", flat=True)[n_handled // 2]
    levels = dict(rows.exclude(resolved_level="").values_list("resolved_level")
                  .annotate(n=Count("id")).values_list("resolved_level", "n"))
    ratings = dict(rows.filter(rating__isnull=False).values_list("rating")
                   .annotate(n=Count("id")).values_list("rating", "n"))

    disputes = Dispute.objects.filter(case__in=rows.filter(is_dispute=True).values("id"))
    d = disputes.aggregate(
        total=Count("id"),
        resolved=Count("id", filter=~Q(resolution_level="")),
        low=Count("id", filter=Q(resolution_level__in=STREET_OR_BELOW)),
    )
    dispute_levels = dict(disputes.exclude(resolution_level="").values_list("resolution_level")
                          .annotate(n=Count("id")).values_list("resolution_level", "n"))
    return {
        "total": total,
        "open": timing["open"],
        "by_status": {s: by_status.get(s, 0) for s in Status.values},
        "by_board": by_board,
        "by_category": by_category,
        "by_area": by_area,
        "on_time_rate": {
            "accept": _rate(timing["accept_on"], timing["accept_all"]),
            "arrive": _rate(timing["arrive_on"], timing["arrive_all"]),
            "resolve": _rate(timing["resolve_on"], timing["resolve_all"]),
        },
        "median_handling_minutes": median,
        "escalated": timing["escalated"],
        "resolved_level": {lv: levels.get(lv, 0) for lv in LADDER},
        "outcome": {"fixed": timing["fixed"], "not_fixed": timing["not_fixed"]},
        "satisfaction": {
            "rated": timing["rated"],
            "average": round(timing["rating_avg"], 2) if timing["rating_avg"] is not None else None,
            "by_rating": {str(r): ratings.get(r, 0) for r in range(1, 6)},
        },
        "disputes": {
            "total": d["total"],
            "resolved": d["resolved"],
            "resolved_at_street_or_below": d["low"],
            "share_street_or_below": _rate(d["low"], d["resolved"]),
            "by_level": {lv: dispute_levels.get(lv, 0) for lv in ResolutionLevel.values},
        },
    }
