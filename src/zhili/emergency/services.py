"""Emergency writes: rescue resources and road networks, each one audited transaction.

Every change that moves a rescue circle (a resource added, moved, deleted or
changing availability; a new road network) queues one recomputation on the
`long` lane with the change itself (`enqueue_with_commit`).
"""

from __future__ import annotations

import math
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core.errors import FieldError, NotFound, OutsideCity, PermissionDenied, ValidationFailed
from zhili.core.personal import purpose_clean
from zhili.core.queue import enqueue_with_commit
from zhili.core.scoping import scope_of
from zhili.emergency.conf import roads_dir
from zhili.emergency.graph import RoadGraph
from zhili.emergency.models import RescueResource, RoadNetwork

MANAGE = "emergency.manage_resource"
VIEW = "emergency.view_resource"
TEXT_LIMITS = {"code": 40, "name": 128, "grade": 40, "contact_name": 64, "contact_phone": 32}
KEPT_NETWORK_FILES = 2  # the current one and the one before (a process may still read it)


def coverage_requested(reason: str) -> None:
    """Queue a rescue-circle recomputation with the surrounding transaction."""
    from zhili.emergency.tasks import coverage_recompute

    enqueue_with_commit(coverage_recompute, reason=reason, requested_at=timezone.now().isoformat())


def grid_of(lon: float, lat: float):
    from zhili.geo.index import get_index
    from zhili.geo.models import AreaNode

    found = get_index().locate(lon, lat)
    if found is None:
        raise OutsideCity(_("No grid of the city holds (%(lon).6f, %(lat).6f).")
                          % {"lon": lon, "lat": lat})
    return AreaNode.objects.get(pk=found.grid_id)


def resource_clean(fields: dict) -> dict:
    """The fields checked and normalised; ValidationFailed naming every bad one."""
    errors: list[FieldError] = []
    clean = dict(fields)
    for name, limit in TEXT_LIMITS.items():
        if name not in clean:
            continue
        value = clean[name]
        text = "" if value is None else str(value).strip()
        if "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
            errors.append(FieldError(name, _("holds a NUL or an unpaired surrogate")))
        elif name in ("code", "name") and not text:
            errors.append(FieldError(name, _("is required")))
        elif len(text) > limit:
            errors.append(FieldError(name, _("is longer than %(n)d characters") % {"n": limit}))
        clean[name] = text
    if "kind" in clean and clean["kind"] not in RescueResource.Kind.values:
        errors.append(FieldError("kind", _("must be one of %(values)s")
                                 % {"values": ", ".join(RescueResource.Kind.values)}))
    if "availability" in clean and clean["availability"] not in RescueResource.Availability.values:
        errors.append(FieldError("availability", _("must be one of %(values)s")
                                 % {"values": ", ".join(RescueResource.Availability.values)}))
    if "capacity" in clean:
        capacity = clean["capacity"]
        if isinstance(capacity, bool) or not isinstance(capacity, int | float) or \
                not math.isfinite(capacity) or capacity < 0 or capacity != int(capacity) or \
                capacity > 1_000_000:
            errors.append(FieldError("capacity", _("must be a whole number from 0 to 1,000,000")))
        else:
            clean["capacity"] = int(capacity)
    for name, low, high in (("lon", -180, 180), ("lat", -90, 90)):
        if name in clean:
            value = clean[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or \
                    not math.isfinite(value) or not low <= value <= high:
                errors.append(FieldError(name, _("must be a number from %(low)d to %(high)d")
                                         % {"low": low, "high": high}))
            else:
                clean[name] = float(value)
    if errors:
        raise ValidationFailed(errors)
    return clean


def _may_manage(actor, path: str) -> None:
    if actor is not None and not scope_of(actor, MANAGE).covers(path):
        raise PermissionDenied(_("You may not manage rescue resources there."))


def resource_create(*, actor, code: str, name: str, kind: str, lon: float, lat: float,
                    capacity: int = 0, grade: str = "", availability: str = "available",
                    contact_name: str = "", contact_phone: str = "", synthetic: bool = False,
                    recompute: bool = True) -> RescueResource:
    """Add a rescue resource, located to its grid (OutsideCity if none holds it)."""
    fields = resource_clean(dict(code=code, name=name, kind=kind, lon=lon, lat=lat,
                                 capacity=capacity, grade=grade, availability=availability,
                                 contact_name=contact_name, contact_phone=contact_phone))
    grid = grid_of(fields["lon"], fields["lat"])
    _may_manage(actor, grid.path)
    with transaction.atomic():
        if RescueResource.objects.filter(code=fields["code"]).exists():
            raise ValidationFailed([FieldError("code", _("is already used"))])
        resource = RescueResource.objects.create(**fields, grid=grid, area_path=grid.path,
                                                 synthetic=synthetic)
        audit_record(actor=actor, action="rescue_resource.create", obj=resource,
                     area_path=resource.area_path, detail={"kind": kind})
        if recompute:
            coverage_requested("resource")
    return resource


def resource_update(*, actor, resource: RescueResource, recompute: bool = True,
                    **changes) -> RescueResource:
    """Change a resource's details, place (re-located) or availability."""
    unknown = set(changes) - {"name", "kind", "lon", "lat", "capacity", "grade", "availability",
                              "contact_name", "contact_phone"}
    if unknown:
        raise ValidationFailed([FieldError(n, _("cannot be changed")) for n in sorted(unknown)])
    changes = resource_clean(changes)
    _may_manage(actor, resource.area_path)
    grid = None
    if "lon" in changes or "lat" in changes:
        grid = grid_of(changes.get("lon", resource.lon), changes.get("lat", resource.lat))
        _may_manage(actor, grid.path)
    with transaction.atomic():
        fresh = RescueResource.objects.select_for_update().filter(pk=resource.pk).first()
        if fresh is None:
            raise NotFound()
        before = {k: getattr(fresh, k) for k in changes if k not in ("contact_name",
                                                                      "contact_phone")}
        for name, value in changes.items():
            setattr(fresh, name, value)
        if grid is not None:
            fresh.grid, fresh.area_path = grid, grid.path
        fresh.updated_at = timezone.now()
        fresh.save()
        audit_record(actor=actor, action="rescue_resource.update", obj=fresh,
                     area_path=fresh.area_path,
                     detail={"changed": sorted(changes), "before": before})
        if recompute:
            coverage_requested("resource")
    return fresh


def resource_members_set(*, actor, resource: RescueResource, users) -> list[int]:
    """Who the team's accounts are (told when it is sent, emergency/team_notice.py); audited."""
    _may_manage(actor, resource.area_path)
    ids = sorted({getattr(u, "pk", u) for u in users or ()})
    with transaction.atomic():
        fresh = RescueResource.objects.select_for_update().filter(pk=resource.pk).first()
        if fresh is None:
            raise NotFound()
        before = sorted(fresh.members.values_list("pk", flat=True))
        if before != ids:
            fresh.members.set(ids)
            audit_record(actor=actor, action="rescue_resource.members", obj=fresh,
                         area_path=fresh.area_path, detail={"before": before, "after": ids})
    return ids


def resource_set_availability(*, actor, resource: RescueResource,
                              availability: str) -> RescueResource:
    return resource_update(actor=actor, resource=resource, availability=availability)


def resource_delete(*, actor, resource: RescueResource) -> None:
    _may_manage(actor, resource.area_path)
    with transaction.atomic():
        audit_record(actor=actor, action="rescue_resource.delete", obj=resource,
                     area_path=resource.area_path, detail={"code": resource.code})
        resource.delete()
        coverage_requested("resource")


def resource_contact_reveal(*, actor, resource: RescueResource, purpose: str) -> dict:
    """The contact in full, for a stated purpose, audited (a read of personal data)."""
    if actor is None or not scope_of(actor, VIEW).covers(resource.area_path):
        raise PermissionDenied(_("You may not see this contact."))
    purpose = purpose_clean(purpose)
    with transaction.atomic():
        audit_record(actor=actor, action="rescue_resource.contact_read", obj=resource,
                     area_path=resource.area_path, purpose=purpose,
                     detail={"fields": ["contact_name", "contact_phone"]})
    return {"contact_name": resource.contact_name, "contact_phone": resource.contact_phone}


def road_network_install(*, actor, graph: RoadGraph, source: str) -> RoadNetwork:
    """Make `graph` the current network: its file is written whole (temporary file,
    renamed) before the row that names it commits, so no process reads half a graph."""
    if graph.nodes < 2 or graph.drive.nnz + graph.walk.nnz == 0:
        raise ValidationFailed([FieldError("network", _("has no roads"))])
    with transaction.atomic():
        network = RoadNetwork.objects.create(
            file_name="", source=source[:255], synthetic=graph.synthetic, nodes=graph.nodes,
            drive_edges=graph.drive.nnz, walk_edges=graph.walk.nnz)
        # A random part: two databases sharing a data directory never share a file.
        network.file_name = f"network-{network.pk}-{secrets.token_hex(4)}.npz"
        graph.version = network.pk
        graph.save(roads_dir() / network.file_name)
        network.save(update_fields=["file_name"])
        audit_record(actor=actor, action="road_network.install", obj=network,
                     detail={"nodes": graph.nodes, "drive_edges": network.drive_edges,
                             "walk_edges": network.walk_edges, "synthetic": graph.synthetic,
                             "source": network.source})
        coverage_requested("network")
        transaction.on_commit(_old_network_files_remove)
    from zhili.emergency.routing import mark_stale

    mark_stale()
    return network


def _old_network_files_remove() -> None:
    """Files of this database's older networks (never a glob: another database may share
    the data directory)."""
    older = RoadNetwork.objects.order_by("-id").values_list("file_name", flat=True)[
        KEPT_NETWORK_FILES:KEPT_NETWORK_FILES + 50]
    for name in older:
        (roads_dir() / name).unlink(missing_ok=True)


def road_network_generate(*, actor, nodes: int | None = None, seed: int = 0) -> RoadNetwork:
    """A synthetic network over the city's outline (labelled synthetic), made current."""
    import numpy as np
    import shapely

    from zhili.emergency.roads import synthetic_network
    from zhili.geo.models import AreaNode, Level

    city = AreaNode.objects.filter(level=Level.CITY).order_by("code").first()
    if city is None:
        raise ValidationFailed([FieldError("city", _("no city loaded: run `zhili city generate` first"))])
    outline = city.shape
    shapely.prepare(outline)
    bbox = (city.min_lon, city.min_lat, city.max_lon, city.max_lat)
    if nodes is None:
        km2 = ((bbox[2] - bbox[0]) * 111.32 * np.cos(np.radians((bbox[1] + bbox[3]) / 2))
               * (bbox[3] - bbox[1]) * 110.57)
        nodes = int(np.clip(km2 * 40, 500, 1_000_000))  # a junction every ~160 m
    graph = synthetic_network(bbox, nodes, seed=seed,
                              inside=lambda lon, lat: shapely.contains_xy(outline, lon, lat))
    return road_network_install(actor=actor, graph=graph,
                                source=f"synthetic (seed {seed}, {nodes} lattice nodes)")
