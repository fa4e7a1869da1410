"""Pages for disputes (矛盾纠纷): the list with the street-or-below share, recording a
dispute with its parties, and a dispute's page with mediation sessions and settling.

Every write is one service call (services/disputes.py); its errors come back as
messages (or field errors on the new-dispute form) and nothing is half-written.
Party names and identity numbers are masked wherever they are shown.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from zhili.core.errors import ApplicationError, NotFound, invalid
from zhili.core.forms import form_errors
from zhili.governance import selectors, services
from zhili.governance.models import (
    STREET_OR_BELOW,
    DisputeParty,
    DisputeType,
    MediationSession,
    ResolutionLevel,
)
from zhili.governance.services.intake import MAX_DESCRIPTION
from zhili.governance.views.common import (
    VIEW,
    area_choices,
    error_text,
    is_htmx,
    require_somewhere,
    run,
    timeline_rows,
)
from zhili.governance.views.maps import map_context
from zhili.registry.masking import mask_id_number, mask_name

MEDIATE = "governance.mediate"
PAGE_SIZE = 50
MAX_MATCHES = 20  # a search shows a few persons; narrow it down by typing more
FIELDS = ("category", "dispute_type", "description", "lon", "lat", "crs", "address")


# -- the list ---------------------------------------------------------------------------------

def _list_filters(request) -> dict:
    get = request.GET
    resolved = get.get("resolved", "")
    level = get.get("level", "")
    dispute_type = get.get("type", "")
    return {
        "type": dispute_type if dispute_type in DisputeType.values else "",
        "resolved": resolved if resolved in ("yes", "no") else "",
        "level": level if level in ResolutionLevel.values else "",
        "area": get.get("area", "").strip(),
    }


def _share(rows) -> dict:
    """The filtered set's resolved count and the share settled at street level or below."""
    d = rows.order_by().aggregate(
        total=Count("id"), resolved=Count("id", filter=~Q(resolution_level="")),
        low=Count("id", filter=Q(resolution_level__in=STREET_OR_BELOW)))
    d["share"] = round(100 * d["low"] / d["resolved"], 1) if d["resolved"] else None
    return d


@login_required
def dispute_list(request):
    require_somewhere(request.user, VIEW)
    chosen = _list_filters(request)
    error, share = "", {"total": 0, "resolved": 0, "low": 0, "share": None}
    resolved = {"yes": True, "no": False}.get(chosen["resolved"])
    try:
        rows = selectors.dispute_list(actor=request.user, dispute_type=chosen["type"] or None,
                                      resolved=resolved, area=chosen["area"] or None,
                                      level=chosen["level"] or None)
        share = _share(rows)
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    except ApplicationError as exc:
        error, page = error_text(exc), Paginator([], PAGE_SIZE).get_page(1)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "title": _("Disputes"), "page": page, "disputes": page.object_list, "chosen": chosen,
        "error": error, "share": share, "types": DisputeType.choices,
        "levels": ResolutionLevel.choices, "query": query.urlencode(),
        "may_record": not request.user.scope(MEDIATE).empty,
        "areas": area_choices(request.user),
    }
    return render(request, "governance/dispute_list.html", context)


# -- recording a dispute ----------------------------------------------------------------------

def _posted_parties(post) -> list[dict]:
    """[{"person_id", "side"}] from the form's `side_<person id>` selects (empty: not a party).

    A malformed id is passed on as it is: the service names the field."""
    parties = []
    for key in post:
        if not key.startswith("side_"):
            continue
        side = post.get(key, "").strip()
        if not side:
            continue
        raw = key[5:]
        parties.append({"person_id": int(raw) if raw.isdigit() and len(raw) < 19 else raw,
                        "side": side})
    return parties


PARTY_LOOKUP_PURPOSE = "parties of a dispute being recorded"


def _party_rows(request, source, errors: dict) -> list[dict]:
    """The persons on the form: those already chosen (kept across searches), then matches of
    the search `q` in the registry within the actor's scope, all masked."""
    from zhili.registry.models import Person
    from zhili.registry.services import person_lookup

    chosen = {p["person_id"]: p["side"] for p in _posted_parties(source)
              if isinstance(p["person_id"], int)}
    visible = Person.objects.restrict(request.user, "registry.view_person").select_related("grid")
    people = list(visible.filter(pk__in=list(chosen)).defer("grid__geometry").order_by("id"))
    q = (source.get("q") or "").strip()
    if q:
        try:
            # The form's own purpose: each search is an audited look-up of a whole value.
            found = person_lookup(actor=request.user, q=q, purpose=PARTY_LOOKUP_PURPOSE)
            people += [p for p in found.defer("grid__geometry")[:MAX_MATCHES]
                       if p.pk not in chosen]
        except ApplicationError as exc:
            errors.setdefault("parties", []).append(error_text(exc))
    return [{"pk": p.pk, "name": mask_name(p.name), "id_number": mask_id_number(p.id_number),
             "grid": p.grid.name, "side": chosen.get(p.pk, "")} for p in people]


def _field_errors(exc: ApplicationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for e in exc.errors:
        field = e.field.split(".")[0]
        field = "lon" if field == "lat" else field
        errors.setdefault(field, []).append(e.message)
    if not exc.errors:
        errors.setdefault("lon" if exc.code == "outside-city" else "general",
                          []).append(str(exc.detail or exc.title))
    return errors


@login_required
@require_http_methods(["GET", "POST"])
def dispute_new(request):
    require_somewhere(request.user, MEDIATE)
    source = request.POST if request.method == "POST" else request.GET
    values = {name: source.get(name, "").strip() for name in FIELDS}
    errors: dict[str, list[str]] = {}
    status = 200
    searching = request.method == "POST" and request.POST.get("do") == "search"
    if request.method == "POST" and not searching:
        try:
            if not values["lon"] or not values["lat"]:
                raise invalid("lon", _("Place the pin on the map, or use your location."))
            dispute = services.dispute_record(
                actor=request.user, category=values["category"],
                description=values["description"], lon=values["lon"], lat=values["lat"],
                crs=values["crs"] or "wgs84", address=values["address"],
                dispute_type=values["dispute_type"] or None,
                parties=_posted_parties(request.POST))
        except ApplicationError as exc:
            errors = _field_errors(exc)
            status = 422
        else:
            messages.success(request, _("Dispute recorded: %(no)s")
                             % {"no": dispute.case.tracking_no})
            return redirect("governance:dispute", dispute.pk)
    rows = _party_rows(request, source, errors)
    context = {"rows": rows, "q": (source.get("q") or "").strip(), "errors": errors,
               "sides": DisputeParty.Side.choices}
    if is_htmx(request):
        return render(request, "governance/partials/dispute_people.html", context)
    context.update({
        "title": _("Record a dispute"), "values": values, "types": DisputeType.choices,
        "max_description": MAX_DESCRIPTION,
        "categories": [c for c in selectors.category_list() if c.is_dispute],
        **map_context(request.user.home_area()),
    })
    return render(request, "governance/dispute_new.html", context, status=status)


# -- one dispute ------------------------------------------------------------------------------

def _dispute_for(request, dispute_id):
    try:
        return selectors.dispute_get_for(actor=request.user, dispute_id=dispute_id)
    except NotFound:
        raise Http404 from None


@login_required
def dispute_detail(request, dispute_id):
    return dispute_page(request, _dispute_for(request, dispute_id))


DISPUTE_INPUTS = {"session": ("held_at", "level", "result", "notes"),
                  "resolve": ("level", "agreement")}


def dispute_page(request, dispute, *, failed: str = "", errors=None, status: int = 200):
    """The dispute; after a refused action, its form open with the errors beside the fields."""
    case = dispute.case
    user = request.user
    parties, sessions = selectors.dispute_detail(dispute=dispute)
    for party in parties:
        party.masked_name = mask_name(party.person.name)
        party.masked_id = mask_id_number(party.person.id_number)
    events = timeline_rows(selectors.case_timeline(actor=user, case=case), case, user)
    open_ = dispute.resolved_at is None
    context = {
        "dispute": dispute, "case": case, "parties": parties, "sessions": sessions,
        "events": events, "may_mediate": open_ and user.has_perm_in(MEDIATE, case.area_path),
        "levels": ResolutionLevel.choices, "results": MediationSession.Result.choices,
        "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "failed": failed, "errors": errors or {}, "kept": request.POST if failed else {},
    }
    return render(request, "governance/dispute_detail.html", context, status=status)


def _held_at(text: str):
    """A datetime-local value in the current time zone; None (the service says why) if bad."""
    try:
        value = parse_datetime((text or "").strip())
    except ValueError:
        return None
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


ACTIONS = {
    "session": (lambda r, d: services.mediation_record(
        actor=r.user, dispute=d, held_at=_held_at(r.POST.get("held_at", "")),
        level=r.POST.get("level", ""), result=r.POST.get("result", ""),
        notes=r.POST.get("notes", "")), gettext_lazy("Mediation session recorded.")),
    "resolve": (lambda r, d: services.dispute_resolve(
        actor=r.user, dispute=d, level=r.POST.get("level", ""),
        agreement=r.POST.get("agreement", "")), gettext_lazy("Dispute settled.")),
}


@login_required
@require_POST
def dispute_action(request, dispute_id, action):
    if action not in ACTIONS:
        raise Http404
    dispute = _dispute_for(request, dispute_id)
    call, success = ACTIONS[action]
    back = reverse("governance:dispute", args=[dispute.pk])
    return run(request, back, lambda: call(request, dispute), success=str(success),
               data=lambda _result: {"dispute": dispute.pk},
               invalid=lambda exc: None if dispute.resolved_at else dispute_page(
                   request, dispute, failed=action, status=422,
                   errors=form_errors(exc, DISPUTE_INPUTS[action])))
