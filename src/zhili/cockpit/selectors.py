"""The one map's reads, each scoped to the viewer's area.

Cases come through governance's selectors, warnings through warning's; only
worker positions and the event log are cockpit's own rows.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from zhili.cockpit.apps import DISPATCH, VIEW_MAP
from zhili.cockpit.conf import number
from zhili.cockpit.models import WorkerPosition
from zhili.core.errors import PermissionDenied
from zhili.geo.viewport import clustered_collection
from zhili.governance.selectors import CaseFilters, case_list, open_case_cells, open_case_points
from zhili.warning.selectors import warning_list

CASE_LIMIT = 2000  # the newest open cases of the area (in the map's box, when it sends one)
CLUSTER_ABOVE = 500  # more open cases than this in a box below zoom 14: counted in cells
WORKER_LIMIT = 2000
VIEW_CASE = "governance.view_case"
MANAGE_CASE = "governance.manage_case"


def stale_after() -> timedelta:
    return timedelta(minutes=number("ZHILI_POSITION_STALE_MINUTES"))


def require_map(actor) -> None:
    if actor.scope(VIEW_MAP).empty:
        raise PermissionDenied()


def cases_geojson(*, actor, now=None, viewport=None) -> dict:
    """Open cases of the viewer's area: status, overdue, and whether the viewer may dispatch.

    With a map's viewport: those in the box; below POINTS_FROM_ZOOM and more than
    CLUSTER_ABOVE of them, clusters counted in the database (each with how many are
    overdue), so a city's 20,000 open cases are all counted, not the newest 2,000.
    """
    now = now or timezone.now()
    if viewport is None:
        return _case_collection(actor, open_case_points(actor=actor, limit=CASE_LIMIT), now)
    limit = CLUSTER_ABOVE if viewport.clusters else CASE_LIMIT
    rows = open_case_points(actor=actor, limit=limit + 1, now=now, viewport=viewport)
    if len(rows) <= limit or not viewport.clusters:
        collection = _case_collection(actor, rows[:limit], now)
        if len(rows) > limit:
            collection["truncated"] = True
        return collection

    def properties(cell):
        overdue = cell.extra[0]  # open_case_cells' one extra aggregate
        return {"overdue": overdue, "colour": "purple" if overdue else None}

    return clustered_collection(
        open_case_cells(actor=actor, viewport=viewport, now=now),
        points=lambda ids: _case_collection(
            actor, open_case_points(actor=actor, now=now, ids=ids, limit=len(ids)), now),
        properties=properties)


def _case_collection(actor, rows, now) -> dict:
    dispatch = actor.scope(DISPATCH)
    manage = actor.scope(MANAGE_CASE)
    features = []
    for row in rows:
        overdue = row["due_at"] is not None and row["due_at"] < now
        features.append({
            "type": "Feature", "id": row["tracking_no"],
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": {
                "case": row["id"], "tracking_no": row["tracking_no"], "status": row["status"],
                "status_label": row["status_label"],
                "version": row["version"],
                "overdue": overdue, "category": row["category__name"],
                "category_en": row["category__name_en"], "assigned": row["assignee_id"] is not None,
                "url": reverse("governance:case", args=[row["id"]]),
                "dispatchable": dispatch.covers(row["area_path"]) and manage.covers(row["area_path"]),
            },
        })
    return {"type": "FeatureCollection", "features": features}


def positions(*, actor):
    """Worker positions in the viewer's area (with the worker), newest first."""
    return (WorkerPosition.objects.restrict(actor, VIEW_MAP).select_related("worker")
            .order_by("-at"))


def workers_geojson(*, actor, now=None) -> dict:
    require_map(actor)
    now = now or timezone.now()
    cutoff = now - stale_after()
    features = []
    for p in positions(actor=actor)[:WORKER_LIMIT]:
        features.append({
            "type": "Feature", "id": f"worker-{p.worker_id}",
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
            "properties": {"worker": p.worker_id,
                           "name": p.worker.display_name or p.worker.get_username(),
                           "at": p.at.isoformat(), "stale": p.at < cutoff,
                           "accuracy_m": p.accuracy_m},
        })
    return {"type": "FeatureCollection", "features": features}


def figures(*, actor, now=None) -> dict:
    """The side panel: open and overdue cases, open warnings by level, workers on the map."""
    require_map(actor)
    now = now or timezone.now()
    out = {"cases": None, "warnings": None}
    if not actor.scope(VIEW_CASE).empty:
        open_cases = case_list(actor=actor, filters=CaseFilters(open=True), now=now).order_by()
        out["cases"] = {
            "open": open_cases.count(),
            "overdue": case_list(actor=actor, filters=CaseFilters(overdue=True), now=now)
            .order_by().count(),
        }
    if not actor.scope("warning.view_warning").empty:
        by_level = dict(warning_list(actor=actor).order_by().values_list("level")
                        .annotate(n=Count("id")).values_list("level", "n"))
        out["warnings"] = {str(level): by_level.get(level, 0) for level in (1, 2, 3, 4)}
        out["warnings"]["total"] = sum(by_level.values())
    cutoff = now - stale_after()
    workers = positions(actor=actor).order_by()
    out["workers"] = {"fresh": workers.filter(at__gte=cutoff).count(),
                      "stale": workers.filter(at__lt=cutoff).count()}
    return out


def events_for(*, actor, after: int, limit: int = 500) -> list[dict]:
    """Logged events after `after` in the viewer's area (the polling transport)."""
    from zhili.cockpit.live import events_after

    require_map(actor)
    scope = actor.scope(VIEW_MAP)
    return [e for e in events_after(after, limit=limit) if scope.covers(e["path"])]
