"""People acting on warnings: an operator raises one by hand, a responsible person
reports what was done on site, an on-site case closing shows on its warning.

Each write is one transaction with its timeline event and audit row. The
rules' writes (raise, level change, clear) are in services.py; this module
builds on them.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core.errors import FieldError, PermissionDenied, ValidationFailed
from zhili.warning import events
from zhili.warning.models import RiskPoint, Warning
from zhili.warning.services import WarningNotOpen, warning_level_change, warning_raise

MANAGE = "warning.manage_warning"
NOTE_MAX = 1000


def _clean(text: str | None, *, field: str, minimum: int, message: str) -> str:
    text = (text or "").replace("\x00", "").strip()
    if len(text) < minimum:
        raise ValidationFailed([FieldError(field, message)])
    return text[:NOTE_MAX]


def warning_raise_by_operator(*, actor, point_code: str, level: int, note: str) -> Warning:
    """An operator raises (or re-levels) a warning on a risk point of their area.

    The condition is the point itself ("operator:<code>"): a second raise on the
    same point while the first is open changes its level instead of opening
    another, as a repeated rule condition does.
    """
    errors = []
    try:
        level = int(level)
    except (TypeError, ValueError):
        level = 0
    if level not in (1, 2, 3, 4):
        errors.append(FieldError("level", _("Choose a level: 1 blue, 2 yellow, 3 orange, 4 red.")))
    note = (note or "").replace("\x00", "").strip()
    if len(note) < 2:
        errors.append(FieldError("note", _("Say what was observed (at least 2 characters).")))
    code = (point_code or "").strip()[:64]
    if not code:
        errors.append(FieldError("point", _("Name the risk point by its code.")))
    if errors:
        raise ValidationFailed(errors)
    scope = actor.scope(MANAGE)
    if scope.empty:
        raise PermissionDenied(_("Your roles do not allow raising warnings."))
    point = (RiskPoint.objects.restrict(actor, MANAGE).select_related("category")
             .filter(code=code).first())
    if point is None:
        raise ValidationFailed([FieldError("point", _("No risk point %(code)s in your area.")
                                           % {"code": code})])
    condition = f"operator:{point.code}"
    with transaction.atomic():
        open_one = (Warning.objects.select_for_update()
                    .filter(condition=condition, status__in=Warning.OPEN).first())
        if open_one is None:
            return warning_raise(risk_point=point, level=level, source=Warning.Source.OPERATOR,
                                 condition=condition, actor=actor, note=note[:NOTE_MAX],
                                 data={"by": "operator"})
        return warning_level_change(warning=open_one, level=level, actor=actor,
                                    note=note[:NOTE_MAX])


def warning_acknowledge(*, actor, warning: Warning, now=None) -> int:
    """A logged-in recipient acknowledges ("my warnings", the API): their in-app
    delivery and those of the registry persons they are linked to on this point.
    Returns how many deliveries this acknowledged (0: already done); NotFound
    when the warning never reached them."""
    from django.db.models import Q

    from zhili.core.errors import NotFound
    from zhili.notifications.selectors import deliveries_of
    from zhili.notifications.services import delivery_acknowledge
    from zhili.warning.models import ResponsiblePerson

    persons = ResponsiblePerson.objects.filter(user=actor, risk_point_id=warning.risk_point_id
                                               ).values("person_id")
    mine = deliveries_of(object_type="warning.warning", object_ids=[warning.pk]).filter(
        Q(user=actor) | Q(person_id__in=persons))
    if not mine.exists():
        raise NotFound()
    done = 0
    with transaction.atomic():
        for delivery in mine.filter(acknowledged_at__isnull=True).order_by("id")[:20]:
            # A person's SMS delivery has no user: the link between the two is ours.
            delivery_acknowledge(delivery=delivery, actor=actor if delivery.user_id else None,
                                 via="inapp", now=now)
            done += 1
    return done


def warning_action_report(*, warning: Warning, text: str, actor=None,
                          person_id: int | None = None, at=None) -> Warning:
    """A recipient says what was done ("evacuated the two houses below the slope").

    `actor` is the logged-in user or None for a registry person reporting
    through their acknowledgement link (`person_id` then says who). The first
    report moves an open warning to "handling"; later ones add to the timeline.
    """
    text = _clean(text, field="text", minimum=2,
                  message=_("Say what was done (at least 2 characters)."))
    at = at or timezone.now()
    with transaction.atomic():
        warning = Warning.objects.select_for_update().get(pk=warning.pk)
        if warning.status not in Warning.OPEN:
            raise WarningNotOpen(warning.number, warning.status)
        events.event_add(warning=warning, kind="action_reported", actor=actor, note=text, at=at,
                         data={"person": person_id} if person_id else {})
        if warning.status != Warning.Status.HANDLING:
            warning.status = Warning.Status.HANDLING
            warning.version += 1
            warning.save(update_fields=["status", "version"])
            events.event_add(warning=warning, kind="handling", actor=actor, at=at)
        audit_record(actor=actor, action="warning.action_report", obj=warning,
                     detail={"person": person_id, "length": len(text)})
    return warning


def warning_case_closed(*, case, at=None) -> None:
    """The governance case opened for a warning was closed: say so on the warning's
    timeline (once per closing; a reopened and re-closed case shows twice)."""
    if case.intake_scope != "warning" or not (case.intake_key or "").startswith("warning:"):
        return
    try:
        pk = int(case.intake_key.split(":", 1)[1])
    except ValueError:
        return
    warning = Warning.objects.filter(pk=pk).first()
    if warning is None:  # never block the case's own closing
        return
    events.event_add(warning=warning, kind="case_closed", at=at or timezone.now(),
                     data={"case": case.tracking_no, "outcome": getattr(case, "outcome", "")})
    audit_record(actor=None, action="warning.case_closed", obj=warning,
                 detail={"case": case.tracking_no})


def case_event_seen(*, case, event, **_kw) -> None:
    """governance.events.case_event_recorded: only "closed" matters here."""
    if event.kind == "closed" and case.intake_scope == "warning":
        warning_case_closed(case=case, at=event.at)
