"""Public reads for Open311: services (categories) and service requests (cases).

GeoReport v2 GETs need no key and no login, so these reads are not scoped to
an actor. They are read-only and expose only what the spec lists about a
request — never the reporter, the contact name or phone, the assignee or the
internal notes. Disputes (矛盾纠纷, with named parties) are not services here
and are never listed.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Prefetch, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.geo.models import AreaNode, full_code
from zhili.governance.attributes import DATATYPES, service_attributes  # noqa: F401  (re-exported)
from zhili.governance.attributes import english as _english
from zhili.governance.models import (
    OPEN_STATUSES,
    Case,
    Category,
    DepartmentTask,
    Outcome,
    Status,
)

DEFAULT_SPAN = timedelta(days=90)  # the spec's default query window …
MAX_RESULTS = 1000  # … and its default result cap, "whichever is smallest"


def category_name(category: Category) -> str:
    return (category.name_en or category.name) if _english() else category.name


def open311_categories():
    """Categories offered as services: active, and not disputes."""
    return (Category.objects.filter(active=True, is_dispute=False)
            .select_related("lead_department").order_by("board", "code"))


def service_get(code: str) -> Category | None:
    return open311_categories().filter(code=code).first()


def _hours(minutes: int) -> str:
    if minutes % 60 == 0 or minutes >= 600:
        return _("%(n)s h") % {"n": round(minutes / 60)}
    return _("%(n)s min") % {"n": minutes}


def service_notice(category: Category) -> str:
    total = category.accept_minutes + category.arrive_minutes + category.resolve_minutes
    return _("The grid worker accepts it within %(accept)s, is on site within %(arrive)s; "
             "expected to be handled within %(total)s.") % {
        "accept": _hours(category.accept_minutes), "arrive": _hours(category.arrive_minutes),
        "total": _hours(total)}


def service_dict(category: Category) -> dict:
    board = category.get_board_display()
    name = category_name(category)
    other = category.name if _english() else category.name_en
    keywords = [k for k in (name, other, board, category.code.replace("-", " ")) if k]
    return {
        "service_code": category.code,
        "service_name": name,
        "description": f"{board} · {name}. " + service_notice(category),
        "metadata": bool(service_attributes(category)),
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys(keywords)),
        "group": board,
    }


# -- service requests ------------------------------------------------------------------------

def public_cases():
    lead_tasks = Prefetch(
        "department_tasks",
        queryset=DepartmentTask.objects.filter(role=DepartmentTask.Role.LEAD)
        .select_related("department"),
        to_attr="lead_tasks",
    )
    return (Case.objects.filter(is_dispute=False)
            .select_related("category", "category__lead_department")
            .prefetch_related(lead_tasks))


def request_list(*, ids=(), codes=(), statuses=(), start=None, end=None, now=None) -> list[Case]:
    """The spec's GET requests: ids override every other filter; else a window of at most
    90 days (the last 90 by default), newest first, at most 1,000."""
    cases = public_cases()
    if ids:
        return list(cases.filter(tracking_no__in=list(ids)).order_by("-created_at")[:MAX_RESULTS])
    now = now or timezone.now()
    if start is None and end is None:
        end, start = now, now - DEFAULT_SPAN
    elif start is None:
        start = end - DEFAULT_SPAN
    elif end is None:
        end = start + DEFAULT_SPAN
    cases = cases.filter(created_at__gte=start, created_at__lte=end)
    if codes:
        cases = cases.filter(category__code__in=list(codes))
    if statuses and set(statuses) != {"open", "closed"}:
        if "open" in statuses:
            cases = cases.filter(status__in=OPEN_STATUSES)
        else:
            cases = cases.exclude(status__in=OPEN_STATUSES)
    return list(cases.order_by("-created_at")[:MAX_RESULTS])


def request_get(request_id: str) -> Case | None:
    return public_cases().filter(tracking_no=request_id).first()


def token_lookup(token: str) -> list[Case]:
    """Cases filed through Open311 with this Idempotency-Key (the token of a submission)."""
    return list(Case.objects.filter(intake_key=token, intake_scope__startswith="open311:",
                                    is_dispute=False)
                .order_by("created_at").only("tracking_no")[:10])


def open311_status(case: Case) -> str:
    return "open" if case.status in OPEN_STATUSES else "closed"


def status_notes(case: Case) -> str:
    notes = {
        Status.REPORTED: _("Reported; waiting for the grid worker to accept it."),
        Status.ACCEPTED: _("Accepted by the grid worker."),
        Status.DISPATCHED: _("Dispatched to the responsible department."),
        Status.ON_SITE: _("A worker is on site."),
        Status.REOPENED: _("Reopened; being handled again."),
        Status.RESOLVED: _("Resolved; waiting for the street centre to verify."),
        Status.VERIFIED: _("Resolved and verified."),
        Status.CLOSED: _("Closed: fixed.") if case.outcome != Outcome.NOT_FIXED
        else _("Closed, not fixed."),
        Status.REJECTED: _("Rejected: %(reason)s") % {"reason": case.reject_reason or "—"},
    }
    text = notes.get(case.status, case.get_status_display())
    if case.duplicate_of_id and case.duplicate_confirmed is not False:
        text += " " + _("Probably a duplicate of an earlier report; followed there.")
    return text


def _street_names(cases) -> dict[str, str]:
    """Street (the street governance centre) of each case's grid, in one query."""
    codes = set()
    for case in cases:
        parts = case.area_path.strip("/").split("/")
        if len(parts) >= 3:
            codes.add(full_code(parts[2]))
    names = {}
    for code, name, name_en in AreaNode.objects.filter(code__in=codes).values_list(
            "code", "name", "name_en"):
        names[code] = (name_en or name) if _english() else name
    return names


def agency_responsible(case: Case, streets: dict[str, str]) -> str:
    lead = getattr(case, "lead_tasks", None)
    if lead:
        department = lead[0].department
        return (department.name_en or department.name) if _english() else department.name
    parts = case.area_path.strip("/").split("/")
    street = streets.get(full_code(parts[2])) if len(parts) >= 3 else None
    if street:
        return _("%(street)s governance centre") % {"street": street}
    department = case.category.lead_department
    if department:
        return (department.name_en or department.name) if _english() else department.name
    return ""


def expected_datetime(case: Case):
    if case.status not in OPEN_STATUSES:
        return None
    lead = getattr(case, "lead_tasks", None)
    if lead:
        return lead[0].due_at
    c = case.category
    return case.created_at + timedelta(
        minutes=c.accept_minutes + c.arrive_minutes + c.resolve_minutes)


def request_dicts(cases: list[Case]) -> list[dict]:
    from zhili.governance.open311.render import w3

    streets = _street_names(cases)
    out = []
    for case in cases:
        updated = case.closed_at if case.status == Status.CLOSED and case.closed_at \
            else case.updated_at
        out.append({
            "service_request_id": case.tracking_no,
            "status": open311_status(case),
            "status_notes": status_notes(case),
            "service_name": category_name(case.category),
            "service_code": case.category.code,
            "description": case.description,
            "agency_responsible": agency_responsible(case, streets) or None,
            "service_notice": service_notice(case.category),
            "requested_datetime": w3(case.created_at),
            "updated_datetime": w3(updated),
            "expected_datetime": w3(expected_datetime(case)),
            "address": case.address or None,
            "address_id": None,
            "zipcode": None,
            "lat": round(case.lat, 7),
            "long": round(case.lon, 7),
            "media_url": getattr(case, "media_url", "") or None,
        })
    return out


# -- locating an address_string or address_id ------------------------------------------------

LOCATABLE_LEVELS = ("district", "street", "community", "grid")
_DEPTH = {level: i for i, level in enumerate(LOCATABLE_LEVELS)}


def locate_address_id(address_id: str) -> tuple[float, float] | None:
    """Our address ids are area codes (a grid's 15 digits, or a community's 12)."""
    if not address_id.isdigit() or len(address_id) not in (12, 15):
        return None
    node = AreaNode.objects.filter(code=address_id).exclude(level="city").first()
    return (node.centre_lon, node.centre_lat) if node else None


def locate_address_string(text: str) -> tuple[float, float] | None:
    """The centre of the deepest area named in the text, e.g. "渝中区 渝中第1街道 1-1社区".

    A name like "1-1社区" recurs in every street, so among the deepest matches
    the one whose ancestors are also named wins; a tie is no answer (the client
    must then send lat/long). No street-address geocoder is assumed.
    """
    text = text.strip()[:200]
    if len(text) < 2:
        return None
    rows = list(
        AreaNode.objects.filter(level__in=LOCATABLE_LEVELS)
        .annotate(text=Value(text)).filter(text__contains=F("name"))
        .values_list("path", "level", "name", "centre_lon", "centre_lat")[:5000]
    )
    rows = [r for r in rows if len(r[2]) >= 2]
    if not rows:
        return None
    paths = [r[0] for r in rows]

    def support(path: str) -> int:
        return sum(1 for p in paths if p != path and path.startswith(p))

    deepest = max(_DEPTH[r[1]] for r in rows)
    best = [r for r in rows if _DEPTH[r[1]] == deepest]
    scored = sorted(((support(r[0]), r) for r in best), key=lambda s: -s[0])
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None
    row = scored[0][1]
    return row[3], row[4]
