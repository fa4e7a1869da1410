"""/api/v1/emergency: rescue resources, rescue-circle coverage and gaps. Thin."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Query, Router, Status

from zhili.core.pagination import PageParams, paginate
from zhili.core.schemas import ERRORS, WRITE_ERRORS
from zhili.emergency import selectors, services
from zhili.emergency.schemas import (
    ContactRevealIn,
    CoverageOut,
    GapOut,
    ResourceContactOut,
    ResourceFilterIn,
    ResourceIn,
    ResourceOut,
    ResourcePage,
    ResourcePatch,
)

router = Router(tags=["emergency"])


@router.get("/resources", response={200: ResourcePage, **ERRORS},
            summary="Rescue resources in your area (contacts masked)")
def resource_list(request, filters: Query[ResourceFilterIn], page: Query[PageParams]):
    data = filters.dict()
    return paginate(selectors.resource_list(actor=request.user, kind=data["kind"] or "",
                                            availability=data["availability"] or ""), page)


@router.get("/resources/{code}", response={200: ResourceOut, **ERRORS},
            summary="One rescue resource (contact masked)")
def resource_detail(request, code: str):
    return selectors.resource_get(actor=request.user, code=code)


@router.post("/resources", response={201: ResourceOut, **WRITE_ERRORS},
             summary="Add a rescue resource (located to its grid)")
def resource_create(request, payload: ResourceIn):
    resource = services.resource_create(actor=request.user, **payload.dict())
    return Status(201, selectors.resource_get(actor=request.user, code=resource.code))


@router.patch("/resources/{code}", response={200: ResourceOut, **WRITE_ERRORS},
              summary="Change a rescue resource: details, place or availability")
def resource_update(request, code: str, payload: ResourcePatch):
    resource = selectors.resource_get(actor=request.user, code=code)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    services.resource_update(actor=request.user, resource=resource, **changes)
    return selectors.resource_get(actor=request.user, code=code)


@router.post("/resources/{code}/contact", response={200: ResourceContactOut, **ERRORS},
             summary="The resource's contact in full, for a stated purpose (audited)")
def resource_contact(request, response: HttpResponse, code: str, payload: ContactRevealIn):
    resource = selectors.resource_get(actor=request.user, code=code)
    response["Cache-Control"] = "no-store"
    return services.resource_contact_reveal(actor=request.user, resource=resource,
                                            purpose=payload.purpose)


@router.get("/coverage", response={200: CoverageOut, **ERRORS},
            summary="Rescue-circle coverage of risk points and population per district and street")
def coverage(request):
    table = selectors.coverage_table(actor=request.user)
    run = table["run"]
    return {"run": run.pk if run else None,
            "computed_at": run.finished_at.isoformat() if run else None,
            "network_synthetic": (run.network.synthetic if run and run.network else None),
            "population": table["population"], "population_note": table["population_note"],
            "rows": table["rows"]}


@router.get("/coverage/gaps", response={200: list[GapOut], **ERRORS},
            summary="Risk points of your area outside a rescue circle, with the best times")
def coverage_gaps(request):
    return [gap_out(row) for row in selectors.gap_list(actor=request.user)]


def gap_out(row) -> dict:
    def code(resource):
        return resource.code if resource else None

    return {"risk_point": row.risk_point.code, "name": row.risk_point.name,
            "area_path": row.area_path, "air_s": row.air_s, "ground_s": row.ground_s,
            "responders_s": row.responders_s, "air_resource": code(row.air_resource),
            "ground_resource": code(row.ground_resource),
            "responders_resource": code(row.responders_resource)}


from zhili.emergency.api_incidents import router as incidents_router  # noqa: E402

router.add_router("/incidents", incidents_router)
