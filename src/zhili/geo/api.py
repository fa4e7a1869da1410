"""/api/v1/geo: locate points, browse the hierarchy, children as GeoJSON for the map."""

from __future__ import annotations

import json

from django.http import HttpResponse
from ninja import Path, Query, Router

from zhili.core.auth import optional_auth
from zhili.core.pagination import PageParams, paginate
from zhili.core.schemas import ProblemOut
from zhili.geo import selectors
from zhili.geo.schemas import (
    CODE_PATTERN,
    FeatureCollectionOut,
    LocateBatchIn,
    LocateBatchOut,
    LocateOut,
    LocateQuery,
    NodeDetailOut,
    NodeFilters,
    NodePage,
)

router = Router(tags=["geo"])

GEOJSON = "application/geo+json"


@router.get("/locate", response={200: LocateOut, 404: ProblemOut}, auth=optional_auth,
            summary="Which grid, community, street and district hold a point (public)")
def locate(request, query: Query[LocateQuery]):
    """404 `outside-city` when no grid holds the point. GCJ-02 input is converted to WGS84."""
    return selectors.locate_point(lon=query.lon, lat=query.lat, crs=query.crs)


@router.post("/locate", response=LocateBatchOut, summary="Locate up to 10,000 points at once")
def locate_batch(request, payload: LocateBatchIn):
    results = selectors.locate_points(points=[(p.lon, p.lat) for p in payload.points],
                                      crs=payload.crs)
    return {"found": sum(r is not None for r in results), "results": results}


@router.get("/nodes", response=NodePage, summary="Areas you can see, filtered and paginated")
def node_list(request, filters: Query[NodeFilters], page: Query[PageParams]):
    queryset = selectors.node_list(actor=request.user, level=filters.level,
                                   parent=filters.parent, q=filters.q)
    return paginate(queryset, page)


@router.get("/nodes/{code}", response={200: NodeDetailOut, 404: ProblemOut},
            summary="One area, with its ancestors")
def node_detail(request, code: str = Path(..., pattern=CODE_PATTERN)):
    found = selectors.node_detail(actor=request.user, code=code)
    node = found["node"]
    node.ancestors, node.child_count = found["ancestors"], found["child_count"]
    return node


@router.get(
    "/nodes/{code}/children",
    response={200: FeatureCollectionOut, 404: ProblemOut},
    summary="An area's children as GeoJSON (RFC 7946), simplified for a map zoom",
    openapi_extra={"responses": {"200": {
        "description": "A FeatureCollection in WGS84",
        "content": {GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollectionOut"}}},
    }}},
)
def node_children(request, code: str = Path(..., pattern=CODE_PATTERN),
                  zoom: int | None = Query(None, ge=0, le=22,
                                           description="Web-map zoom; default fits the area")):
    collection = selectors.node_children_geojson(actor=request.user, code=code, zoom=zoom)
    body = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body, content_type=GEOJSON)
