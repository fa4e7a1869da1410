"""The case lifecycle: each transition a named service call.

reported → accepted → (dispatched) → on site → resolved → verified → closed,
plus reopened, rejected, and "closed, not fixed" kept apart from "fixed".
Every call: one transaction, the case row locked, the client's `version`
checked (409 when stale), the transition checked (409 `invalid-transition`),
the actor's role and scope checked (404 outside it), one timeline event, one
audit row, notifications queued for after the commit.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from zhili.accounts.models import User
from zhili.audit.services import audit_record
from zhili.core.errors import Conflict, invalid
from zhili.governance.events import event_add
from zhili.governance.models import OPEN_STATUSES, Case, Outcome, Status, Step
from zhili.governance.photos import files_discard, photos_prepare, photos_store
from zhili.governance.services.common import (
    MANAGE,
    WORK,
    allowed,
    clock,
    has,
    lock,
    on_time,
    reopen_days,
    require,
    save,
    set_step,
    tell,
    text_clean,
)
from zhili.governance.services.intake import dispatch_to_grid, notify_assignee
from zhili.governance.services.privacy import case_audit

NOTE = 2000
DONE_STATES = (Status.RESOLVED, Status.VERIFIED)


def case_accept(*, actor, case: Case, version, note: str = "", now=None) -> Case:
    now = clock(now)
    note = text_clean(note, "note", limit=NOTE)
    with transaction.atomic():
        case = lock(case, version)
        require(actor, case, WORK, MANAGE)
        allowed(case, "accept", (Status.REPORTED, Status.REOPENED))
        if case.duplicate_of_id:
            raise Conflict(_("This case follows %(no)s as a duplicate; split it to handle it on "
                             "its own.") % {"no": case.duplicate_of.tracking_no})
        case.accept_on_time = on_time(case, now)
        case.status, case.accepted_at = Status.ACCEPTED, now
        if not case.assignee_id or has(actor, WORK, case.area_path):
            case.assignee = actor
        set_step(case, Step.ARRIVE, now, case.category.arrive_minutes)
        save(case, now, "status", "accepted_at", "accept_on_time", "assignee", "step", "due_at",
             "escalate_at")
        event_add(case=case, kind="accepted", actor=actor, note=note, at=now)
        audit_record(actor=actor, action="case.accept", obj=case)
    return case


def case_arrive(*, actor, case: Case, version, lon=None, lat=None, crs: str = "wgs84",
                note: str = "", now=None) -> Case:
    """The worker checks in on site, optionally with where they stand."""
    from zhili.governance.location import distance_m, point_clean

    now = clock(now)
    note = text_clean(note, "note", limit=NOTE)
    data = {}
    if lon is not None or lat is not None:
        wlon, wlat = point_clean(lon, lat, crs)
        data = {"lon": wlon, "lat": wlat}
    with transaction.atomic():
        case = lock(case, version)
        require(actor, case, WORK, MANAGE)
        allowed(case, "arrive", (Status.ACCEPTED, Status.DISPATCHED))
        if data:
            data["distance_m"] = round(distance_m(data["lon"], data["lat"], case.lon, case.lat))
        case.arrive_on_time = on_time(case, now)
        case.status, case.arrived_at = Status.ON_SITE, now
        if case.step != Step.RESOLVE:  # dispatched cases already run the resolve clock
            set_step(case, Step.RESOLVE, now, case.category.resolve_minutes)
        save(case, now, "status", "arrived_at", "arrive_on_time", "step", "due_at", "escalate_at")
        event_add(case=case, kind="arrived", actor=actor, note=note, data=data, at=now)
        audit_record(actor=actor, action="case.arrive", obj=case, detail=data)
    return case


def resolve_now(case: Case, *, actor, now, note: str, fixed: bool = True, photos_event=None):
    """Mark a locked case resolved (shared with department tasks and disputes)."""
    case.resolve_on_time = on_time(case, now)
    case.status, case.resolved_at = Status.RESOLVED, now
    case.resolved_level = case.current_level
    case.outcome = Outcome.FIXED if fixed else Outcome.NOT_FIXED
    case.handling_minutes = max(0, int((now - case.created_at).total_seconds() // 60))
    case.reopen_until = now + timedelta(days=reopen_days())
    case.step, case.due_at, case.escalate_at = Step.NONE, None, None
    save(case, now, "status", "resolved_at", "resolved_level", "outcome", "handling_minutes",
         "reopen_until", "step", "due_at", "escalate_at", "resolve_on_time")
    event = event_add(case=case, kind="resolved", actor=actor, note=note, at=now,
                      data={"fixed": fixed, "level": case.resolved_level})
    followers = list(Case.objects.filter(duplicate_of=case, reporter__isnull=False)
                     .values_list("reporter_id", flat=True))
    reporters = ([case.reporter_id] if case.reporter_id else []) + followers
    tell(case=case, recipients=reporters, kind="case.resolved", now=now, urgent=False,
         title=_("Your case %(no)s was resolved: please rate it") % {"no": case.tracking_no},
         body=note[:200])
    return event


def case_resolve(*, actor, case: Case, version, note: str, photos=(), fixed: bool = True,
                 now=None) -> Case:
    now = clock(now)
    note = text_clean(note, "note", limit=NOTE, required=True)
    prepared = photos_prepare(photos)
    stored: list[str] = []
    try:
        with transaction.atomic():
            case = lock(case, version)
            require(actor, case, WORK, MANAGE)
            allowed(case, "resolve", (Status.ACCEPTED, Status.ON_SITE, Status.DISPATCHED))
            event = resolve_now(case, actor=actor, now=now, note=note, fixed=bool(fixed))
            photos_store(case=case, event=event, prepared=prepared, stored=stored, now=now)
            audit_record(actor=actor, action="case.resolve", obj=case,
                         detail={"fixed": bool(fixed), "photos": len(prepared)})
    except BaseException:
        files_discard(stored)
        raise
    return case


def case_verify(*, actor, case: Case, version, note: str = "", now=None) -> Case:
    """Staff check the fix (a call-back or a visit)."""
    now = clock(now)
    note = text_clean(note, "note", limit=NOTE)
    with transaction.atomic():
        case = lock(case, version)
        require(actor, case, MANAGE)
        allowed(case, "verify", (Status.RESOLVED,))
        case.status = Status.VERIFIED
        save(case, now, "status")
        event_add(case=case, kind="verified", actor=actor, note=note, at=now)
        audit_record(actor=actor, action="case.verify", obj=case)
    return case


def close_now(case: Case, *, actor, now, outcome: str, note: str = "", auto: bool = False):
    case.status, case.closed_at, case.outcome = Status.CLOSED, now, outcome
    case.step, case.due_at, case.escalate_at = Step.NONE, None, None
    save(case, now, "status", "closed_at", "outcome", "step", "due_at", "escalate_at")
    event_add(case=case, kind="closed", actor=actor, note=note, at=now,
              data={"outcome": outcome, "automatic": auto})
    # Duplicates linked to it close with it: their reporters followed this case.
    for duplicate in Case.objects.select_for_update().filter(duplicate_of=case,
                                                             status__in=OPEN_STATUSES):
        duplicate.status, duplicate.closed_at, duplicate.outcome = Status.CLOSED, now, outcome
        duplicate.resolved_at = case.resolved_at
        save(duplicate, now, "status", "closed_at", "outcome", "resolved_at")
        event_add(case=duplicate, kind="closed", at=now,
                  data={"outcome": outcome, "with_original": case.tracking_no})


def case_close(*, actor, case: Case, version, outcome: str, note: str = "", now=None) -> Case:
    """Close a case: "fixed" after resolution, or "closed, not fixed" at any open stage."""
    now = clock(now)
    note = text_clean(note, "note", limit=NOTE)
    if outcome not in Outcome.values:
        raise invalid("outcome", _("one of: %(v)s") % {"v": ", ".join(Outcome.values)})
    with transaction.atomic():
        case = lock(case, version)
        require(actor, case, MANAGE)
        if outcome == Outcome.FIXED:
            allowed(case, "close", DONE_STATES)
        else:
            allowed(case, "close", (*OPEN_STATUSES, *DONE_STATES))
            if not note:
                raise invalid("note", _("say why it is closed without a fix"))
        close_now(case, actor=actor, now=now, outcome=outcome, note=note)
        audit_record(actor=actor, action="case.close", obj=case, detail={"outcome": outcome})
        tell(case=case, recipients=[case.reporter_id], kind="case.closed", now=now, urgent=False,
             title=_("Your case %(no)s was closed") % {"no": case.tracking_no}, body=note[:200])
    return case


def case_reopen(*, actor, case: Case, version, reason: str, now=None) -> Case:
    """The reporter (within the reopen window) or staff send a case back to work."""
    now = clock(now)
    reason = text_clean(reason, "reason", limit=NOTE, required=True)
    with transaction.atomic():
        case = lock(case, version)
        require(actor, case, MANAGE, reporter=True)
        allowed(case, "reopen", (*DONE_STATES, Status.CLOSED))
        if case.duplicate_of_id:
            raise Conflict(_("A duplicate follows its original; reopen %(no)s instead.")
                           % {"no": case.duplicate_of.tracking_no})
        staff = has(actor, MANAGE, case.area_path)
        if not staff and (case.reopen_until is None or now > case.reopen_until):
            raise Conflict(_("The period for reopening this case has passed."))
        case.status = Status.REOPENED
        case.outcome, case.rating, case.rating_comment, case.closed_at = "", None, "", None
        case.resolved_level, case.reopen_until = "", None
        set_step(case, Step.ACCEPT, now, case.category.accept_minutes)
        save(case, now, "status", "outcome", "rating", "rating_comment", "closed_at",
             "resolved_level", "reopen_until", "step", "due_at", "escalate_at")
        event_add(case=case, kind="reopened", actor=actor, note=reason, at=now)
        case_audit(actor=actor, action="case.reopen", case=case)
        notify_assignee(case, now)
    return case


def case_reject(*, actor, case: Case, version, reason: str, now=None) -> Case:
    """Not a case for the grid (false report, not a public matter): closed with a reason."""
    now = clock(now)
    reason = text_clean(reason, "reason", limit=500, required=True)
    with transaction.atomic():
        case = lock(case, version)
        require(actor, case, WORK, MANAGE)
        allowed(case, "reject", (Status.REPORTED, Status.ACCEPTED, Status.REOPENED))
        case.status, case.reject_reason, case.closed_at = Status.REJECTED, reason, now
        case.step, case.due_at, case.escalate_at = Step.NONE, None, None
        save(case, now, "status", "reject_reason", "closed_at", "step", "due_at", "escalate_at")
        event_add(case=case, kind="rejected", actor=actor, note=reason, at=now)
        audit_record(actor=actor, action="case.reject", obj=case, detail={"reason": reason})
        tell(case=case, recipients=[case.reporter_id], kind="case.rejected", now=now,
             urgent=False, title=_("Your case %(no)s was not taken up") % {"no": case.tracking_no},
             body=reason)
    return case


def case_assign(*, actor, case: Case, version, assignee, now=None) -> Case:
    """A community or street operator hands the case to a grid worker; the clock restarts."""
    now = clock(now)
    with transaction.atomic():
        case = lock(case, version)
        require(actor, case, MANAGE)
        allowed(case, "assign", (Status.REPORTED, Status.REOPENED, Status.ACCEPTED,
                                 Status.ON_SITE))
        if isinstance(assignee, int | str):
            assignee = User.objects.filter(pk=assignee).first()
        if assignee is None or not assignee.is_active or not has(assignee, WORK, case.area_path):
            raise invalid("assignee", _("must be a grid worker or leader of this case's grid"))
        case.assignee = assignee
        if case.status != Status.REOPENED:
            case.status = Status.REPORTED
        set_step(case, Step.ACCEPT, now, case.category.accept_minutes)
        save(case, now, "assignee", "status", "step", "due_at", "escalate_at")
        event_add(case=case, kind="assigned", actor=actor, at=now,
                  data={"assignee": assignee.pk, "automatic": False})
        audit_record(actor=actor, action="case.assign", obj=case,
                     detail={"assignee": assignee.get_username()})
        notify_assignee(case, now)
    return case


def case_rate(*, actor, case: Case, rating: int, comment: str = "", now=None) -> Case:
    """The reporter rates the result 1–5; a resolved case closes with it (still reopenable)."""
    now = clock(now)
    comment = text_clean(comment, "comment", limit=500)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise invalid("rating", _("a whole number from 1 to 5"))
    with transaction.atomic():
        case = lock(case, None)
        if getattr(actor, "pk", None) is None or case.reporter_id != actor.pk:
            require(actor, case)  # staff who can see it: 403; anyone else: 404
        allowed(case, "rate", (*DONE_STATES, Status.CLOSED))
        if case.rating is not None:
            raise Conflict(_("This case has been rated already."))
        case.rating, case.rating_comment = rating, comment
        save(case, now, "rating", "rating_comment")
        event_add(case=case, kind="rated", actor=actor, note=comment, at=now,
                  data={"rating": rating})
        if case.status in DONE_STATES:
            close_now(case, actor=actor, now=now, outcome=case.outcome or Outcome.FIXED)
        case_audit(actor=actor, action="case.rate", case=case, detail={"rating": rating})
    return case


def case_duplicate_confirm(*, actor, case: Case, version=None, now=None) -> Case:
    now = clock(now)
    with transaction.atomic():
        case = lock(case, version)
        require(actor, case, MANAGE)
        if case.duplicate_of_id is None or case.duplicate_confirmed is not None:
            raise Conflict(_("This case is not a probable duplicate awaiting a decision."))
        original = Case.objects.get(pk=case.duplicate_of_id)
        case.duplicate_confirmed = True
        save(case, now, "duplicate_confirmed")
        event_add(case=case, kind="duplicate_confirmed", actor=actor, at=now,
                  data={"original": original.tracking_no})
        if original.status in (Status.CLOSED, Status.REJECTED) and case.status in OPEN_STATUSES:
            case.status, case.closed_at, case.outcome = Status.CLOSED, now, original.outcome
            save(case, now, "status", "closed_at", "outcome")
            event_add(case=case, kind="closed", at=now,
                      data={"outcome": original.outcome, "with_original": original.tracking_no})
        audit_record(actor=actor, action="case.duplicate_confirm", obj=case,
                     detail={"original": original.tracking_no})
    return case


def case_duplicate_split(*, actor, case: Case, version=None, now=None) -> Case:
    """Not a duplicate after all: the case is dispatched on its own."""
    now = clock(now)
    with transaction.atomic():
        case = lock(case, version)
        require(actor, case, MANAGE)
        if case.duplicate_of_id is None or case.status not in OPEN_STATUSES:
            raise Conflict(_("This case is not linked to another open case."))
        former = case.duplicate_of_id
        case.duplicate_of, case.duplicate_confirmed = None, False
        event_add(case=case, kind="duplicate_split", actor=actor, at=now,
                  data={"original_id": former})
        dispatch_to_grid(case, actor=None, now=now)
        save(case, now, "duplicate_of", "duplicate_confirmed", "assignee", "step", "due_at",
             "escalate_at")
        audit_record(actor=actor, action="case.duplicate_split", obj=case,
                     detail={"original_id": former})
        notify_assignee(case, now)
    return case
