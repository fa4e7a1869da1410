"""Disputes (矛盾纠纷): a case of a dispute category with parties from the
registry, mediation sessions, an agreement and the level that settled it."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core.errors import FieldError, NotFound, ValidationFailed, invalid
from zhili.governance.catalogue import DISPUTE_TYPE_OF
from zhili.governance.events import event_add
from zhili.governance.location import locate_case_point
from zhili.governance.models import (
    LADDER,
    OPEN_STATUSES,
    Case,
    Channel,
    Dispute,
    DisputeParty,
    DisputeType,
    MediationSession,
    ResolutionLevel,
    Status,
    Step,
)
from zhili.governance.services.common import (
    MEDIATE,
    actor_level,
    clock,
    has,
    lock,
    require,
    save,
    set_step,
    text_clean,
    tracking_number,
)
from zhili.governance.services.intake import MAX_DESCRIPTION, category_get
from zhili.governance.services.lifecycle import resolve_now

MAX_PARTIES = 20


def _parties(actor, parties) -> list[tuple[object, str]]:
    """[(person, side)] from [{"person_id", "side"}]; persons must be visible to the actor."""
    from zhili.registry.models import Person

    if not parties:
        raise invalid("parties", _("at least one party"))
    if len(parties) > MAX_PARTIES:
        raise invalid("parties", _("at most %(n)d parties") % {"n": MAX_PARTIES})
    wanted, errors = [], []
    for i, party in enumerate(parties):
        person_id = party.get("person_id") if isinstance(party, dict) else None
        side = party.get("side") if isinstance(party, dict) else None
        if isinstance(person_id, bool) or not isinstance(person_id, int):
            errors.append(FieldError(f"parties.{i}.person_id", _("a person id")))
        if side not in DisputeParty.Side.values:
            sides = ", ".join(DisputeParty.Side.values)
            errors.append(FieldError(f"parties.{i}.side", _("one of: %(v)s") % {"v": sides}))
        wanted.append((person_id, side))
    if errors:
        raise ValidationFailed(errors)
    ids = [p for p, _side in wanted]
    if len(set(ids)) != len(ids):
        raise invalid("parties", _("a person is named twice"))
    found = Person.objects.restrict(actor, "registry.view_person").in_bulk(ids)
    missing = [i for i, (p, _side) in enumerate(wanted) if p not in found]
    if missing:
        raise ValidationFailed([FieldError(f"parties.{i}.person_id",
                                           _("no such person in your area")) for i in missing])
    return [(found[p], side) for p, side in wanted]


def dispute_record(*, actor, category: str, description: str, lon: float, lat: float,
                   parties, crs: str = "wgs84", address: str = "", dispute_type: str | None = None,
                   now=None) -> Dispute:
    """Staff record a dispute they are handling; the recorder's level is where it starts."""
    now = clock(now)
    cat = category_get(category)
    if not cat.is_dispute:
        raise invalid("category", _("not a dispute category"))
    dispute_type = dispute_type or DISPUTE_TYPE_OF.get(cat.code) or DisputeType.OTHER
    if dispute_type not in DisputeType.values:
        raise invalid("dispute_type", _("one of: %(v)s") % {"v": ", ".join(DisputeType.values)})
    text = text_clean(description, "description", limit=MAX_DESCRIPTION, required=True)
    address = text_clean(address, "address", limit=200)
    grid, wlon, wlat = locate_case_point(lon, lat, crs)
    if not has(actor, MEDIATE, grid.path):
        raise invalid("lon", _("the dispute must lie in your area"))
    people = _parties(actor, parties)
    level = actor_level(actor, grid.path, MEDIATE)
    with transaction.atomic():
        case = Case(tracking_no=tracking_number(now), category=cat, is_dispute=True,
                    description=text, address=address, lon=wlon, lat=wlat, grid=grid,
                    area_path=grid.path, channel=Channel.PATROL, reporter=actor,
                    status=Status.ACCEPTED, assignee=actor, accepted_at=now, accept_on_time=True,
                    current_level=level, highest_level=level, created_at=now, updated_at=now)
        set_step(case, Step.RESOLVE, now, cat.resolve_minutes)
        case.save()
        dispute = Dispute.objects.create(case=case, dispute_type=dispute_type)
        DisputeParty.objects.bulk_create([DisputeParty(dispute=dispute, person=p, side=s)
                                          for p, s in people])
        event_add(case=case, kind="dispute_recorded", actor=actor, at=now,
                  data={"type": dispute_type, "parties": len(people), "level": level})
        audit_record(actor=actor, action="dispute.record", obj=case,
                     detail={"tracking_no": case.tracking_no, "type": dispute_type,
                             "parties": [p.pk for p, _s in people]})
    return dispute


def _dispute_locked(actor, dispute: Dispute) -> tuple[Dispute, Case]:
    case = lock(dispute.case, None)
    require(actor, case, MEDIATE)
    dispute = Dispute.objects.select_for_update().filter(pk=dispute.pk).first()
    if dispute is None:
        raise NotFound()
    return dispute, case


def mediation_record(*, actor, dispute: Dispute, held_at, level: str, result: str,
                     notes: str = "", now=None) -> MediationSession:
    now = clock(now)
    notes = text_clean(notes, "notes", limit=4000)
    if level not in ResolutionLevel.values:
        raise invalid("level", _("one of: %(v)s") % {"v": ", ".join(ResolutionLevel.values)})
    if result not in MediationSession.Result.values:
        raise invalid("result", _("one of: %(v)s")
                      % {"v": ", ".join(MediationSession.Result.values)})
    if held_at is None or held_at > now + timedelta(hours=1):
        raise invalid("held_at", _("when the session was held (not in the future)"))
    with transaction.atomic():
        dispute, case = _dispute_locked(actor, dispute)
        if dispute.resolved_at is not None:
            raise invalid("dispute", _("this dispute is resolved already"))
        session = MediationSession.objects.create(dispute=dispute, held_at=held_at, level=level,
                                                  mediator=actor, result=result, notes=notes)
        save(case, now)
        event_add(case=case, kind="mediation", actor=actor, note=notes, at=now,
                  data={"level": level, "result": result, "held_at": held_at.isoformat()})
        audit_record(actor=actor, action="dispute.mediation", obj=case,
                     detail={"level": level, "result": result})
    return session


def dispute_resolve(*, actor, dispute: Dispute, level: str, agreement: str = "",
                    now=None) -> Dispute:
    """Settled at `level` (up to court or arbitration); the case is resolved with it."""
    now = clock(now)
    agreement = text_clean(agreement, "agreement", limit=4000)
    if level not in ResolutionLevel.values:
        raise invalid("level", _("one of: %(v)s") % {"v": ", ".join(ResolutionLevel.values)})
    with transaction.atomic():
        dispute, case = _dispute_locked(actor, dispute)
        if dispute.resolved_at is not None:
            raise invalid("dispute", _("this dispute is resolved already"))
        dispute.resolution_level, dispute.resolved_at, dispute.agreement = level, now, agreement
        dispute.save(update_fields=["resolution_level", "resolved_at", "agreement"])
        event_add(case=case, kind="dispute_resolved", actor=actor, note=agreement, at=now,
                  data={"level": level})
        if case.status in OPEN_STATUSES:
            if level in LADDER:
                case.current_level = level
                case.highest_level = max(case.highest_level, level, key=LADDER.index)
                save(case, now, "current_level", "highest_level")
            resolve_now(case, actor=actor, now=now, note=agreement or _("Dispute settled."))
        audit_record(actor=actor, action="dispute.resolve", obj=case, detail={"level": level})
    return dispute
