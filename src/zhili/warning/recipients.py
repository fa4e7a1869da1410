"""Who a warning reached and who acknowledged: read off the deliveries of its messages.

A city-wide warning has a million deliveries, so the page gets counts per
channel and the first acknowledgements, never the whole list. Names are shown
masked (张*明), as the admin shows them; the full contact is a registry
look-up, audited there.
"""

from __future__ import annotations

from django.db.models import Count, Q

from zhili.notifications.selectors import deliveries_of
from zhili.warning.models import ResponsiblePerson, Warning

SHOWN = 50


def warning_reach(*, warning: Warning) -> dict:
    """{"channels": [{channel, total, sent, pending, failed, acknowledged}],
    "acknowledged": [{who, tier, channel, at, via}], "more": int}."""
    from zhili.registry.masking import mask_name
    from zhili.registry.selectors import person_names

    rows = deliveries_of(object_type="warning.warning", object_ids=[warning.pk])
    channels = list(rows.order_by().values("channel").annotate(
        total=Count("id"), sent=Count("id", filter=Q(status="sent")),
        pending=Count("id", filter=Q(status="pending")),
        failed=Count("id", filter=Q(status="failed")),
        acknowledged=Count("id", filter=Q(acknowledged_at__isnull=False))).order_by("channel"))
    acked = list(rows.filter(acknowledged_at__isnull=False).order_by("acknowledged_at", "id")
                 .values("person_id", "user_id", "user__username", "channel",
                         "acknowledged_at", "acknowledged_via")[:SHOWN])
    person_ids = [a["person_id"] for a in acked if a["person_id"]]
    names = person_names(person_ids) if person_ids else {}
    tiers = dict(ResponsiblePerson.objects.filter(risk_point_id=warning.risk_point_id,
                                                  person_id__in=person_ids)
                 .values_list("person_id", "tier"))
    shown = []
    for a in acked:
        if a["person_id"]:
            who, tier = mask_name(names.get(a["person_id"], "")), tiers.get(a["person_id"], "")
        else:
            who, tier = a["user__username"], "staff"
        shown.append({"who": who, "tier": tier, "channel": a["channel"],
                      "at": a["acknowledged_at"], "via": a["acknowledged_via"]})
    total_acked = sum(c["acknowledged"] for c in channels)
    return {"channels": channels, "acknowledged": shown, "more": max(0, total_acked - len(shown))}
