"""The demo's one open incident: opened by the demo commander from the most severe
open demo warning in its district, with the nearest available fire station and
responder group assigned (so the board, the detail and the map have something). With
seed 1 the ground team is one with a leader account (told in-app and by SMS) and the
responder group has none: it is told by one SMS to its contact phone (demo.py
`teams_seed`)."""

from __future__ import annotations


def seed(*, seed: int, log) -> None:
    from zhili.accounts.models import User
    from zhili.core.errors import ApplicationError
    from zhili.emergency.incidents import incident_assign, incident_open
    from zhili.emergency.models_incidents import Incident
    from zhili.emergency.selectors_incidents import incident_suggest
    from zhili.warning.selectors import warning_list

    if Incident.objects.exists():
        log("  incidents demo already seeded")
        return
    commander = User.objects.filter(username="commander").first() or \
        User.objects.filter(username="admin").first()
    if commander is None:
        log("  no demo commander: incidents demo not seeded")
        return
    warning = warning_list(actor=commander).first()
    if warning is None:
        log("  no open demo warning: incidents demo not seeded")
        return
    incident = incident_open(actor=commander, warning_number=warning.number)
    suggested = incident_suggest(actor=commander, incident=incident, per_class=1)
    sent = []
    for cls in ("ground", "responders", "air"):
        for row in suggested[cls]:
            if len(sent) < 2:
                try:
                    incident_assign(actor=commander, incident=incident,
                                    resource_code=row["resource"].code)
                    sent.append(row["resource"].code)
                except ApplicationError:
                    continue
    log(f"  incident {incident.number} from warning {warning.number}, "
        f"{len(sent)} resources assigned")
