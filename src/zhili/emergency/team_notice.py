"""Telling a rescue team it has been sent, and hearing that it has taken it in.

Every assignment of a resource to an incident (`incidents.incident_assign`, hence
the cockpit's one-click team dispatch) queues one message to the team's member
accounts (`RescueResource.members`) through the notifications outbox: written in
the assignment's transaction (a refused or rolled-back dispatch tells nobody),
sent by the worker after commit, at most once per assignment (the dedupe key is
the assignment's id), in-app and by SMS. It names the incident (and its warning),
the place with its coordinates and a link to the one map centred on it, the mode
and the travel time. Each member reads it in their own language (`User.language`,
else the platform's `LANGUAGE_CODE`, zh-Hans), whoever dispatched: one message
per language among the members.

A team with no active member account but a contact phone gets the same words in
one SMS to that phone instead (`notify_addresses`: a delivery with no user and no
registry person, dedupe key per assignment as well), carrying its own signed
acknowledgement link (notifications/acklinks.py, the page at `/n/ack/<token>/`),
so whoever holds the phone acknowledges without an account. A team with neither
is told by nobody: the dispatcher is asked to call it.

A member acknowledges it like any delivery (`POST /api/v1/notifications/{id}/
acknowledge`, or in the inbox), the contact phone through its link;
`team_acknowledged` (connected in apps.py) puts the first acknowledgement per
assignment on the incident's timeline, and the acknowledgement's audit row names
the incident.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import quote

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

KIND = "incident.team_dispatched"
CHANNELS = ("inapp", "sms")
OBJECT_TYPE = "emergency.incidentassignment"
ACK_PATH = "/n/ack/{ack}/"  # notifications' link page; {ack} becomes each delivery's token


class Told(NamedTuple):
    """Whom the dispatch told: deliveries queued, and to "members", "contact" or ""."""

    deliveries: int
    to: str


def site_url() -> str:
    return getattr(settings, "ZHILI_SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def contact_address(phone: str) -> str:
    """The contact phone as an SMS address (digits, a leading +), or "" when it is not
    one (fewer than 5 digits: a placeholder, a name)."""
    raw = (phone or "").strip()
    digits = "".join(c for c in raw if c.isdigit())
    if not 5 <= len(digits) <= 20:
        return ""
    return ("+" if raw.startswith("+") else "") + digits


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return _("not connected by road")
    return _("about %(n)d min") % {"n": max(1, round(seconds / 60))}


def map_link(incident) -> str:
    label = quote(f"{incident.number} {incident.title}"[:120])
    return f"/cockpit/?at={incident.lon:.6f},{incident.lat:.6f}&label={label}"


def message_text(*, incident, assignment, by_link: bool = False,
                 language: str | None = None) -> tuple[str, str]:
    """(title, body) in `language` (default: the platform's); `by_link`: acknowledged by
    the link."""
    with translation.override(language or settings.LANGUAGE_CODE):
        resource = assignment.resource
        title = _("%(team)s: sent to incident %(n)s") % {"team": resource.name,
                                                         "n": incident.number}
        warning = getattr(incident, "warning", None)
        parts = [
            _("Incident %(n)s: %(title)s.") % {"n": incident.number, "title": incident.title},
            _("Warning %(n)s.") % {"n": warning.number} if warning is not None else "",
            _("Where: %(grid)s (%(lon).5f, %(lat).5f).") % {
                "grid": incident.grid.name, "lon": incident.lon, "lat": incident.lat},
            _("Travel time: %(eta)s.") % {"eta": _minutes(assignment.eta_seconds)},
            _("Please acknowledge by opening the link.") if by_link else
            _("Please acknowledge."),
        ]
        return title, " ".join(p for p in parts if p)


def team_notify(*, incident, assignment) -> Told:
    """Inside the assignment's transaction: queue the team's message to its active
    members, or else one SMS to its contact phone; deliveries offered and to whom."""
    from zhili.notifications.services import notify, notify_addresses

    resource = assignment.resource
    members = list(resource.members.filter(is_active=True).values_list("pk", flat=True))
    if members:
        told = notify(recipients=members, kind=KIND,
                      text=lambda language: message_text(incident=incident, assignment=assignment,
                                                         language=language),
                      link=map_link(incident), obj=assignment,
                      dedupe=f"incident-assignment:{assignment.pk}", channels=CHANNELS)
        return Told(told, "members" if told else "")
    phone = contact_address(resource.contact_phone)
    if not phone:
        return Told(0, "")
    # The phone has no language of its own: the platform's.
    title, body = message_text(incident=incident, assignment=assignment, by_link=True)
    told = notify_addresses(addresses=[phone], kind=KIND, title=title, body=body,
                            link=site_url() + ACK_PATH, obj=assignment,
                            dedupe=f"incident-assignment:{assignment.pk}:contact", channel="sms")
    return Told(told, "contact" if told else "")


def notice_status(assignments) -> dict[int, dict]:
    """Per assignment id: the team message's deliveries, sent, failed and acknowledged,
    and how many of them went to the contact phone (`contact`, no phone number shown)."""
    from django.db.models import Count, Q

    from zhili.notifications.models import Delivery

    ids = [str(a.pk) for a in assignments]
    if not ids:
        return {}
    rows = (Delivery.objects.filter(message__kind=KIND, message__object_type=OBJECT_TYPE,
                                    message__object_id__in=ids)
            .values("message__object_id")
            .annotate(deliveries=Count("id"), sent=Count("id", filter=Q(status="sent")),
                      failed=Count("id", filter=Q(status="failed")),
                      acknowledged=Count("id", filter=Q(acknowledged_at__isnull=False)),
                      contact=Count("id", filter=Q(user__isnull=True,
                                                   person_id__isnull=True))))
    return {int(r["message__object_id"]): {k: r[k] for k in ("deliveries", "sent", "failed",
                                                             "acknowledged", "contact")}
            for r in rows}


def team_acknowledged(*, delivery, message, **_kw) -> dict | None:
    """A member (or the contact phone, through its link: no user) acknowledged the
    team's message: on the incident's timeline (the first acknowledgement of the
    assignment only), and the audit row names the incident."""
    if message.object_type != OBJECT_TYPE or not str(message.object_id).isdigit():
        return None
    from zhili.emergency.incident_events import event_add
    from zhili.emergency.models_incidents import IncidentAssignment, IncidentEvent

    assignment = (IncidentAssignment.objects.select_related("incident", "resource")
                  .filter(pk=int(message.object_id)).first())
    if assignment is None:
        return None
    incident = assignment.incident
    if not IncidentEvent.objects.filter(incident=incident, kind="acknowledged",
                                        data__assignment=assignment.pk).exists():
        data = {"resource": assignment.resource.code, "assignment": assignment.pk,
                "delivery": delivery.pk, "via": delivery.acknowledged_via}
        if delivery.user_id is None:
            data["by"] = "contact"  # the team's contact phone (never the number itself)
        event_add(incident=incident, kind="acknowledged",
                  actor=delivery.user if delivery.user_id else None, data=data)
    return {"area_path": incident.area_path,
            "detail": {"incident": incident.number, "resource": assignment.resource.code}}
