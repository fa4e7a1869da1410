"""Reaching the right people: a warning's message to its responsible persons, their
acknowledgements, and escalation when nobody acknowledges in time.

Who is told grows with the level: the point's own owner and the grid tier from
blue, the street tier from orange, the district and department tiers at red.
Each (warning, level) is one message through the platform's broadcast (a
delivery per person and channel, written by the worker in chunks), each with
its own acknowledgement link. The role holders covering the point (grid,
street, district staff) get it in their in-app inbox as well.

Not acknowledged within the level's time (red 10, orange 20, yellow 30, blue 60
minutes; `ZHILI_WARNING_ACK_MINUTES`), the sweep escalates: the next tiers up
are told, on the timeline, once per step. No anchor project escalates on
silence; this does.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.warning import events
from zhili.warning.models import ResponsiblePerson, Warning

TIERS = ["owner", "grid", "street", "district", "department"]
TIERS_BY_LEVEL = {1: 2, 2: 2, 3: 3, 4: 5}  # how many of TIERS are told at each level
ACK_MINUTES = {1: 60, 2: 30, 3: 20, 4: 10}
ROLE_HOLDERS = {1: ("grid_worker", "grid_leader"), 2: ("grid_worker", "grid_leader"),
                3: ("grid_worker", "grid_leader", "street_operator"),
                4: ("grid_worker", "grid_leader", "street_operator", "district_operator",
                    "emergency_commander")}


def ack_minutes(level: int) -> int:
    table = getattr(settings, "ZHILI_WARNING_ACK_MINUTES", None) or ACK_MINUTES
    return int(table.get(level, table.get(str(level), 30)))


def _persons(warning: Warning, tiers: list[str]):
    from zhili.registry.models import Person

    ids = ResponsiblePerson.objects.filter(risk_point_id=warning.risk_point_id,
                                           tier__in=tiers).values("person_id")
    return Person.objects.filter(pk__in=ids).exclude(phone="")


def _role_holders(warning: Warning, level: int):
    """Users whose role on an ancestor of the point's grid (or the grid) is told."""
    from zhili.accounts.models import RoleAssignment, User
    from zhili.geo.selectors import ancestor_paths

    paths = ancestor_paths(warning.area_path)
    users = (RoleAssignment.objects.filter(role__in=ROLE_HOLDERS[level], area__path__in=paths)
             .values("user_id"))
    return User.objects.filter(pk__in=users, is_active=True)


def _text(warning: Warning) -> tuple[str, str]:
    point = warning.risk_point
    category = point.category
    measures = (point.measures or {}).get(str(warning.level)) or \
        category.measures.get(str(warning.level), {})
    title = _("%(level)s warning: %(category)s at %(point)s") % {
        "level": warning.get_level_display(), "category": category.name, "point": point.name}
    body = " ".join(filter(None, [measures.get("zh", ""), _("Warning %(n)s.") % {"n": warning.number}]))
    return title, body


def voice_level() -> int:
    """From this level up responsible persons are called as well as texted."""
    return int(getattr(settings, "ZHILI_WARNING_VOICE_LEVEL", 4))


def site_url() -> str:
    return getattr(settings, "ZHILI_SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def warning_notify(*, warning: Warning, at=None, tiers: list[str] | None = None,
                   step: str | None = None) -> None:
    """Tell the tiers for the warning's level (or the `tiers` given: an escalation),
    inside the caller's transaction. Idempotent per (warning, level, step)."""
    from zhili.notifications.services import message_broadcast, notify

    at = at or timezone.now()
    level = warning.level
    if level < 1:
        return
    tiers = tiers or TIERS[:TIERS_BY_LEVEL[level]]
    title, body = _text(warning)
    key = f"warning:{warning.pk}:level:{level}" + (f":{step}" if step else "")
    persons = _persons(warning, tiers)
    told = persons.exists()
    if told:
        # Each person's SMS carries their own link ({ack}, acklinks.py) to the responder
        # page: the warning, "received", and what was done. From the voice level up
        # they are called as well (the call's key press acknowledges, via="phone").
        channels = ("sms", "voice") if level >= voice_level() else ("sms",)
        message_broadcast(actor=None, recipients=persons, kind="warning.raised", title=title,
                          body=body, link=f"{site_url()}/warning/r/{{ack}}/", obj=warning,
                          dedupe=key + ":persons", channels=channels, now=at)
    told = notify(recipients=_role_holders(warning, level), kind="warning.raised", title=title,
                  body=body, link=f"/warning/w/{warning.number}/", obj=warning,
                  dedupe=key + ":staff", now=at) > 0 or told
    if not told:
        return  # nobody to tell: the warning stays "raised", for the operators' list
    events.event_add(warning=warning, kind="escalated" if step else "notified", at=at,
                     data={"tiers": tiers, "level": level})
    if warning.status == Warning.Status.RAISED:
        Warning.objects.filter(pk=warning.pk).update(status=Warning.Status.NOTIFIED)
        warning.status = Warning.Status.NOTIFIED


# A warning past "notified" (acknowledged, handling, closed, cancelled) never goes back,
# so once a commit has shown a process one there, a later acknowledgement of it needs
# nothing of the warning but its number and area, which never change: no query at all.
# Filled only after a commit (a rolled-back move must not be remembered); bounded.
_SETTLED: dict[int, tuple[str, str]] = {}
SETTLED_MAX = 20_000


def settled_cache_clear() -> None:
    _SETTLED.clear()


def _settle(pk: int, number: str, area_path: str) -> None:
    if len(_SETTLED) >= SETTLED_MAX:
        _SETTLED.clear()
    _SETTLED[pk] = (number, area_path)


def warning_acknowledged(*, delivery, message, **_kw) -> dict | None:
    """A responsible person (or a role holder) acknowledged a warning's message.

    The first acknowledgement moves a raised or notified warning to
    "acknowledged" (which stops the escalation) and is the timeline's
    "acknowledged" event; later ones are on their deliveries, which the detail
    page's "who it reached" reads. No row lock on the warning: many recipients
    of one warning press at once, and a lock would queue them all behind one
    another. A plain read tells whether the warning may still move (none once
    this process knows it has moved, `_SETTLED`); the move is a conditional
    UPDATE, so of two first presses at once only one moves it and writes the
    event. Returns what the acknowledgement's one audit entry adds
    (delivery_acknowledge): the warning and its area.
    """
    if message.object_type != "warning.warning" or not str(message.object_id).isdigit():
        return None
    pk = int(message.object_id)
    known = _SETTLED.get(pk)
    if known is not None:
        return {"area_path": known[1], "detail": {"warning": pk, "number": known[0]}}
    warning = (Warning.objects.only("id", "number", "level", "status", "area_path")
               .filter(pk=pk).first())
    if warning is None:
        return None
    said = {"area_path": warning.area_path,
            "detail": {"warning": warning.pk, "number": warning.number}}
    waiting = (Warning.Status.RAISED, Warning.Status.NOTIFIED)
    if warning.status in waiting and Warning.objects.filter(
            pk=warning.pk, status__in=waiting).update(status=Warning.Status.ACKNOWLEDGED,
                                                       version=F("version") + 1):
        warning.status = Warning.Status.ACKNOWLEDGED
        events.event_add(warning=warning, kind="acknowledged", at=delivery.acknowledged_at,
                         data={"delivery": delivery.pk, "via": delivery.acknowledged_via})
        # What save() would tell: the live map hears of the change (cockpit/hooks.py).
        post_save.send(sender=Warning, instance=warning, created=False, raw=False,
                       using=warning._state.db, update_fields=frozenset({"status", "version"}))
        said["detail"]["warning_status"] = Warning.Status.ACKNOWLEDGED
    transaction.on_commit(partial(_settle, warning.pk, warning.number, warning.area_path))
    return said


def warnings_escalate_unacknowledged(*, now=None) -> int:
    """Escalate open warnings that nobody acknowledged within their level's time: the
    next tier up is told. Safe to re-run (one escalation per step and level)."""
    now = now or timezone.now()
    escalated = 0
    candidates = (Warning.objects.filter(status=Warning.Status.NOTIFIED)
                  .select_related("risk_point__category").order_by("id")[:500])
    for warning in candidates:
        steps = list(warning.events.filter(kind__in=("notified", "escalated"),
                                           level=warning.level).order_by("at", "id"))
        if not steps:
            continue
        told = max(len(s.data.get("tiers", [])) for s in steps)
        if told >= len(TIERS):
            continue
        if now - steps[-1].at < timedelta(minutes=ack_minutes(warning.level)):
            continue
        with transaction.atomic():
            locked = Warning.objects.select_for_update().get(pk=warning.pk)
            if locked.status != Warning.Status.NOTIFIED:
                continue
            tiers = TIERS[:told + 1]
            warning_notify(warning=locked, at=now, tiers=tiers, step=f"escalate{told + 1}")
            audit_record(actor=None, action="warning.escalate", obj=locked,
                         detail={"level": locked.level, "tiers": tiers})
            escalated += 1
    return escalated
