"""The governance JSON API, mounted at /api/v1/governance.

Thin: parse, call one service or selector, serialise. Writes that carry
photos (report, resolve) take `multipart/form-data` as well as JSON, so they
parse the body themselves (`parse_body()`); the OpenAPI document describes both.
Every transition is `POST /cases/{id}/{action}` with the `version` the client
last read: a stale one is a 409, and so is an action the state does not allow.
"""

from __future__ import annotations

import json
from typing import Literal

from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.responses import Status

from zhili.accounts.auth import optional_auth
from zhili.core import bodies
from zhili.core.errors import PermissionDenied, invalid
from zhili.core.pagination import PageParams, paginate
from zhili.core.schemas import ERRORS, Moment, ProblemOut
from zhili.core.scoping import scope_of
from zhili.governance import selectors, services
from zhili.governance.access import VIEW
from zhili.governance.figures import case_figures
from zhili.governance.models import Channel, DepartmentTask
from zhili.governance.models import Status as CaseStatusChoice
from zhili.governance.schemas import (
    ArriveIn,
    AssignIn,
    CaseOut,
    CasePage,
    CaseReportIn,
    CategoryOut,
    CloseIn,
    ContactOut,
    DispatchIn,
    DisputeIn,
    DisputeOut,
    DisputePage,
    DisputeResolveIn,
    InboxTaskOut,
    MaybeVersionIn,
    NoteIn,
    PurposeIn,
    RateIn,
    ReasonIn,
    ReporterOut,
    ResolveIn,
    SessionIn,
    TaskOut,
    VersionIn,
)
from zhili.registry.masking import mask_phone

router = Router(tags=["governance"])

API_CHANNELS = {Channel.API, Channel.RESIDENT, Channel.PATROL}

# Errors each kind of operation declares (401 and 422 the API layer adds to all).
READ = {404: ProblemOut}  # missing and not-yours alike
ACT = {403: ProblemOut, 404: ProblemOut, 409: ProblemOut}  # role, existence, version or state
INTAKE = {404: ProblemOut, 409: ProblemOut}  # outside the city; boundaries changed meanwhile
PHOTO_FIELDS = ("photos", "photo", "media")


# -- parsing bodies that may be JSON or multipart ------------------------------


def parse_body(request, schema):
    """The body as `schema` (JSON, or form fields), and any uploaded photos."""
    files = []
    if not bodies.is_form(request):
        return bodies.validated(schema, bodies.json_object(request)), files
    data: dict = {}
    attributes: dict = {}
    for key in request.POST:
        values = request.POST.getlist(key)
        value = values if len(values) > 1 else values[0]
        if key.startswith("attributes[") and key.endswith("]"):
            attributes[key[len("attributes["):-1]] = value
        elif key.startswith("attribute[") and key.endswith("]"):
            attributes[key[len("attribute["):-1]] = value
        else:
            data[key] = value
    if isinstance(data.get("attributes"), str):
        try:
            attributes.update(json.loads(data.pop("attributes")))
        except (ValueError, TypeError, AttributeError):
            raise invalid("attributes", _("must be a JSON object")) from None
    if attributes:
        data["attributes"] = attributes
    for name in PHOTO_FIELDS:
        files.extend(request.FILES.getlist(name))
    return bodies.validated(schema, data), files


def body_doc(schema, *, photos: bool) -> dict:
    """OpenAPI requestBody for endpoints parsed by `parse_body()`."""
    return bodies.body_doc(schema, files="photos" if photos else None,
                           files_doc="up to 6 images (JPEG, PNG, WebP, GIF), 10 MB each; "
                                     "re-encoded, metadata stripped")


# -- shaping a case for output -------------------------------------------------


def case_out(request, case, *, timeline: bool = True, tasks: bool = True):
    actor = request.user
    if not case.anonymous and actor.is_authenticated and (
            case.reporter_id == actor.pk or actor.has_perm_in(VIEW, case.area_path)):
        case.shown_reporter = (case.reporter.display_name or case.reporter.get_username()) \
            if case.reporter else None
        case.shown_contact_name = case.contact_name
        # The reporter sees their own number; staff see it masked until they reveal it.
        case.shown_contact_phone = case.contact_phone if case.reporter_id == actor.pk \
            else mask_phone(case.contact_phone)
    case.actions = selectors.case_actions(actor=actor, case=case)
    case.duplicate_of_tracking_no = case.duplicate_of.tracking_no if case.duplicate_of_id \
        else None
    if timeline:
        case.timeline = getattr(case, "new_events", None) or \
            selectors.case_timeline(actor=actor, case=case)
        case.tasks = selectors.case_tasks(case=case) if tasks else []
        case.dispute_id = case.dispute.pk if case.is_dispute and hasattr(case, "dispute") \
            else None
    return case


def fresh(request, case):
    """Re-read after a write, through the actor's own view of it."""
    return case_out(request, selectors.case_get_for(actor=request.user, case_id=case.pk))


def get_case(request, case_id: int):
    return selectors.case_get_for(actor=request.user, case_id=case_id)


# -- categories ------------------------------------------------------------------


@router.get("/categories", response=list[CategoryOut], auth=optional_auth,
            summary="Case categories on the four boards (public)")
def categories_list(request, board: str | None = None):
    return list(selectors.category_list(board=board))


# -- intake ------------------------------------------------------------------------


@router.post("/cases", response={200: CaseOut, 201: CaseOut, **INTAKE}, summary="Report a case",
             description="Send an `Idempotency-Key` header: a retry with the same key returns "
                         "the first case (200) instead of creating another (201). JSON, or "
                         "multipart/form-data with up to 6 `photos`.",
             openapi_extra=body_doc(CaseReportIn, photos=True))
def case_report(request):
    data, photos = parse_body(request, CaseReportIn)
    if data.channel not in API_CHANNELS:
        raise invalid("channel", _("one of: %(v)s") % {"v": ", ".join(sorted(API_CHANNELS))})
    case, created = services.case_report(
        actor=request.user, category=data.category, description=data.description, lon=data.lon,
        lat=data.lat, crs=data.crs, address=data.address, photos=photos,
        anonymous=data.anonymous, contact_name=data.contact_name,
        contact_phone=data.contact_phone, channel=data.channel, attributes=data.attributes,
        idempotency_key=request.headers.get("Idempotency-Key"),
        idempotency_scope=f"user:{request.user.pk}", idempotency_strict=True,
    )
    if not created:
        return Status(200, fresh(request, case))
    # Just written by this request: no need to read it back (a new case has no tasks).
    case.reporter = request.user
    return Status(201, case_out(request, case, tasks=False))


# -- reading cases ------------------------------------------------------------------


# Declared, so the OpenAPI document lists the values the filters take.
CaseStatus = Literal[tuple(CaseStatusChoice.values)]
TaskStatus = Literal[tuple(DepartmentTask.TaskStatus.values)]


class CaseQuery(PageParams):
    status: list[CaseStatus] | None = None
    category: str | None = None
    board: str | None = None
    area: str | None = None
    overdue: bool | None = None
    open: bool | None = None
    is_dispute: bool | None = None
    mine: bool | None = None
    assigned_to_me: bool | None = None
    created_from: Moment | None = None
    created_to: Moment | None = None
    tracking_no: str | None = None


def _filters(q: CaseQuery) -> selectors.CaseFilters:
    return selectors.CaseFilters(
        status=q.status, category=q.category, board=q.board, area=q.area, overdue=q.overdue,
        open=q.open, is_dispute=q.is_dispute, mine=q.mine, assigned_to_me=q.assigned_to_me,
        created_from=q.created_from, created_to=q.created_to, tracking_no=q.tracking_no)


@router.get("/cases", response=CasePage, summary="Cases I may see, newest first")
def cases_list(request, q: Query[CaseQuery]):
    return paginate(selectors.case_list(actor=request.user, filters=_filters(q)), q)


@router.get("/cases/overdue", response=CasePage, summary="Open cases past their step's limit")
def cases_overdue(request, page: Query[PageParams]):
    return paginate(selectors.overdue_list(actor=request.user), page)


@router.get("/cases/tracking/{tracking_no}", response={200: CaseOut, **READ},
            summary="A case by its tracking number")
def case_by_tracking(request, tracking_no: str):
    return case_out(request, selectors.case_get_for(actor=request.user, tracking_no=tracking_no))


@router.get("/cases/{int:case_id}", response={200: CaseOut, **READ},
            summary="A case with its timeline")
def case_detail(request, case_id: int):
    return case_out(request, get_case(request, case_id))


@router.post("/cases/{int:case_id}/reveal-contact", response={200: ContactOut, **ERRORS},
             summary="The reporter's contact in full, for a stated purpose (audited)")
def case_contact_reveal(request, response: HttpResponse, case_id: int, payload: PurposeIn):
    """For those who handle the case (`work_case` or `manage_case` over its area);
    403 for other staff, 404 outside your area; an anonymous case's contact is never shown."""
    case = services.case_contact_reveal(actor=request.user, case=get_case(request, case_id),
                                        purpose=payload.purpose)
    response["Cache-Control"] = "no-store"
    return case


@router.post("/cases/{int:case_id}/reveal-reporter", response={200: ReporterOut, **ERRORS},
             summary="Who reported a case, anonymous ones too: for auditors (audited)")
def case_reporter_reveal(request, response: HttpResponse, case_id: int, payload: PurposeIn):
    """Needs `audit.view` over the case's area (404 outside it, 403 with no audit
    right at all); the purpose is recorded as `case.reporter_reveal`."""
    if scope_of(request.user, "audit.view").empty:
        raise PermissionDenied("Only auditors may see who reported a case.")
    case = services.case_reporter_reveal(
        actor=request.user, case=selectors.case_get_for_auditor(actor=request.user,
                                                                case_id=case_id),
        purpose=payload.purpose)
    response["Cache-Control"] = "no-store"
    return case


@router.get("/my-tasks", response=list[CaseOut],
            summary="Cases waiting for me (assigned, or at my level in my area)")
def my_tasks(request):
    return [case_out(request, c, timeline=False) for c in selectors.my_tasks(actor=request.user)]


@router.get("/figures", summary="Figures for my area (by status, board, category, area; "
                                "on-time rates; median handling time; levels; satisfaction; "
                                "disputes settled at street level or below)")
def figures(request, q: Query[CaseQuery]):
    return case_figures(actor=request.user, filters=_filters(q))


@router.get("/photos/{int:photo_id}", summary="A case photo (JPEG, metadata stripped)",
            openapi_extra={"responses": {
                200: {"description": "the photo", "content": {"image/jpeg": {}}},
                404: {"description": "No such photo, or not yours to see",
                      "content": {"application/problem+json": {
                          "schema": {"$ref": "#/components/schemas/ProblemOut"}}}}}})
def photo(request, photo_id: int):
    item = selectors.photo_get_for(actor=request.user, photo_id=photo_id)
    response = FileResponse(item.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- transitions ---------------------------------------------------------------------


@router.post("/cases/{int:case_id}/accept", response={200: CaseOut, **ACT},
             summary="Accept (grid staff)")
def case_accept(request, case_id: int, payload: VersionIn):
    case = services.case_accept(actor=request.user, case=get_case(request, case_id),
                                version=payload.version, note=payload.note)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/arrive", response={200: CaseOut, **ACT},
             summary="Check in on site, optionally with the position")
def case_arrive(request, case_id: int, payload: ArriveIn):
    case = services.case_arrive(actor=request.user, case=get_case(request, case_id),
                                version=payload.version, lon=payload.lon, lat=payload.lat,
                                crs=payload.crs, note=payload.note)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/resolve", response={200: CaseOut, **ACT},
             summary="Resolve, with up to 6 photos (JSON or multipart)",
             openapi_extra=body_doc(ResolveIn, photos=True))
def case_resolve(request, case_id: int):
    case = get_case(request, case_id)
    data, photos = parse_body(request, ResolveIn)
    case = services.case_resolve(actor=request.user, case=case, version=data.version,
                                 note=data.note, photos=photos, fixed=data.fixed)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/verify", response={200: CaseOut, **ACT},
             summary="Verify the fix (staff)")
def case_verify(request, case_id: int, payload: VersionIn):
    case = services.case_verify(actor=request.user, case=get_case(request, case_id),
                                version=payload.version, note=payload.note)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/close", response={200: CaseOut, **ACT},
             summary="Close: fixed, or not fixed (with a note)")
def case_close(request, case_id: int, payload: CloseIn):
    case = services.case_close(actor=request.user, case=get_case(request, case_id),
                               version=payload.version, outcome=payload.outcome, note=payload.note)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/reopen", response={200: CaseOut, **ACT},
             summary="Reopen (the reporter within the reopen period, or staff)")
def case_reopen(request, case_id: int, payload: ReasonIn):
    case = services.case_reopen(actor=request.user, case=get_case(request, case_id),
                                version=payload.version, reason=payload.reason)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/reject", response={200: CaseOut, **ACT},
             summary="Reject, with a reason")
def case_reject(request, case_id: int, payload: ReasonIn):
    case = services.case_reject(actor=request.user, case=get_case(request, case_id),
                                version=payload.version, reason=payload.reason)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/escalate", response={200: CaseOut, **ACT},
             summary="Escalate one level by hand (beyond my capacity)")
def case_escalate(request, case_id: int, payload: ReasonIn):
    case = services.case_escalate(actor=request.user, case=get_case(request, case_id),
                                  version=payload.version, reason=payload.reason)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/assign", response={200: CaseOut, **ACT},
             summary="Assign to a worker of the grid (community or street staff)")
def case_assign(request, case_id: int, payload: AssignIn):
    from zhili.accounts.models import User

    assignee = payload.assignee
    if isinstance(assignee, str) and not assignee.isdigit():
        assignee = User.objects.filter(username=assignee).first()
        if assignee is None:
            raise invalid("assignee", _("no such user"))
    elif isinstance(assignee, str):
        assignee = int(assignee)
    case = services.case_assign(actor=request.user, case=get_case(request, case_id),
                                version=payload.version, assignee=assignee)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/dispatch", response={200: CaseOut, **ACT},
             summary="One-click dispatch to a lead department and cooperating ones")
def case_dispatch(request, case_id: int, payload: DispatchIn):
    case = services.case_dispatch_departments(
        actor=request.user, case=get_case(request, case_id), version=payload.version,
        lead=payload.lead, cooperating=payload.cooperating, instructions=payload.instructions,
        due_hours=payload.due_hours)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/rate", response={200: CaseOut, **ACT},
             summary="Rate the result 1–5 (the reporter)")
def case_rate(request, case_id: int, payload: RateIn):
    case = services.case_rate(actor=request.user, case=get_case(request, case_id),
                              rating=payload.rating, comment=payload.comment)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/duplicate-confirm", response={200: CaseOut, **ACT},
             summary="Confirm a probable duplicate (it follows its original)")
def case_duplicate_confirm(request, case_id: int, payload: MaybeVersionIn):
    case = services.case_duplicate_confirm(actor=request.user, case=get_case(request, case_id),
                                           version=payload.version)
    return fresh(request, case)


@router.post("/cases/{int:case_id}/duplicate-split", response={200: CaseOut, **ACT},
             summary="Not a duplicate: handle it on its own")
def case_duplicate_split(request, case_id: int, payload: MaybeVersionIn):
    case = services.case_duplicate_split(actor=request.user, case=get_case(request, case_id),
                                         version=payload.version)
    return fresh(request, case)


# -- department tasks ------------------------------------------------------------------


@router.get("/inbox", response=list[InboxTaskOut],
            summary="My department's tasks in my area (open and accepted by default)")
def inbox(request, status: Query[list[TaskStatus] | None] = None):
    return list(selectors.department_inbox(actor=request.user, status=status)[:500])


def _task_action(request, task_id: int, service, note: str):
    task = selectors.task_get_for(actor=request.user, task_id=task_id)
    task = service(actor=request.user, task=task, note=note)
    return selectors.task_get_for(actor=request.user, task_id=task.pk)


@router.post("/tasks/{int:task_id}/accept", response={200: TaskOut, **ACT},
             summary="Accept a department task")
def task_accept(request, task_id: int, payload: NoteIn):
    return _task_action(request, task_id, services.department_task_accept, payload.note)


@router.post("/tasks/{int:task_id}/complete", response={200: TaskOut, **ACT},
             summary="Complete a department task (the case resolves when all are done)")
def task_complete(request, task_id: int, payload: NoteIn):
    return _task_action(request, task_id, services.department_task_complete, payload.note)


@router.post("/tasks/{int:task_id}/return", response={200: TaskOut, **ACT},
             summary="Return a task that is not for this department, with the reason")
def task_return(request, task_id: int, payload: NoteIn):
    return _task_action(request, task_id, services.department_task_return, payload.note)


# -- disputes ------------------------------------------------------------------------------


def dispute_out(request, dispute):
    from zhili.registry.masking import mask_name

    parties, sessions = selectors.dispute_detail(dispute=dispute)
    dispute.parties_out = [{"person_id": p.person_id, "name": mask_name(p.person.name),
                            "side": p.side} for p in parties]
    dispute.sessions_out = sessions
    return {
        "id": dispute.pk, "dispute_type": dispute.dispute_type,
        "resolution_level": dispute.resolution_level, "resolved_at": dispute.resolved_at,
        "agreement": dispute.agreement, "case": dispute.case,
        "parties": dispute.parties_out, "sessions": sessions,
    }


class DisputeQuery(PageParams):
    dispute_type: str | None = None
    resolved: bool | None = None
    area: str | None = None


@router.get("/disputes", response=DisputePage, summary="Disputes in my area")
def disputes_list(request, q: Query[DisputeQuery]):
    rows = selectors.dispute_list(actor=request.user, dispute_type=q.dispute_type,
                                  resolved=q.resolved, area=q.area)
    return paginate(rows, q)


@router.post("/disputes", response={201: DisputeOut, **ACT},
             summary="Record a dispute with its parties (mediating staff)")
def dispute_record(request, payload: DisputeIn):
    dispute = services.dispute_record(
        actor=request.user, category=payload.category, description=payload.description,
        lon=payload.lon, lat=payload.lat, crs=payload.crs, address=payload.address,
        dispute_type=payload.dispute_type, parties=[p.model_dump() for p in payload.parties])
    return Status(201, dispute_out(request, selectors.dispute_get_for(actor=request.user,
                                                                      dispute_id=dispute.pk)))


@router.get("/disputes/{int:dispute_id}", response={200: DisputeOut, **READ},
            summary="A dispute: parties (names masked), sessions, agreement")
def dispute_detail(request, dispute_id: int):
    return dispute_out(request, selectors.dispute_get_for(actor=request.user,
                                                          dispute_id=dispute_id))


@router.post("/disputes/{int:dispute_id}/sessions", response={201: DisputeOut, **ACT},
             summary="Record a mediation session")
def dispute_session(request, dispute_id: int, payload: SessionIn):
    dispute = selectors.dispute_get_for(actor=request.user, dispute_id=dispute_id)
    services.mediation_record(actor=request.user, dispute=dispute, held_at=payload.held_at,
                              level=payload.level, result=payload.result, notes=payload.notes)
    return Status(201, dispute_out(request, selectors.dispute_get_for(actor=request.user,
                                                                      dispute_id=dispute_id)))


@router.post("/disputes/{int:dispute_id}/resolve", response={200: DisputeOut, **ACT},
             summary="Settle a dispute at a level (grid … city, court, arbitration)")
def dispute_resolve(request, dispute_id: int, payload: DisputeResolveIn):
    dispute = selectors.dispute_get_for(actor=request.user, dispute_id=dispute_id)
    services.dispute_resolve(actor=request.user, dispute=dispute, level=payload.level,
                             agreement=payload.agreement)
    return dispute_out(request, selectors.dispute_get_for(actor=request.user,
                                                          dispute_id=dispute_id))
