"""The escalation ladder (grid → community → street → district → city) and the
two sweeps that keep cases moving without anyone watching the clock.

Both sweeps are safe to stop and re-run: each case is changed in its own
transaction, conditioned on the row still being what the sweep selected
(its version and deadline), so a case is escalated or closed at most once per
deadline and none is lost when a worker dies mid-sweep.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.governance.errors import InvalidTransition
from zhili.governance.events import event_add
from zhili.governance.models import OPEN_STATUSES, Case, Level, Outcome, Status
from zhili.governance.services.common import (
    MANAGE,
    WORK,
    clock,
    ladder_max,
    level_above,
    level_staff,
    lock,
    require,
    save,
    tell,
    text_clean,
)
from zhili.governance.services.lifecycle import close_now

SWEEP_BATCH = 200


def escalate_now(case: Case, *, actor, now, reason: str, automatic: bool) -> str:
    """Move a locked case one rung up and tell that level; returns the new level."""
    previous, level = case.current_level, level_above(case.current_level)
    case.current_level = level
    case.highest_level = ladder_max(case.highest_level, level)
    case.escalated_at = now
    # The new level gets its own window; at the top there is nowhere further to go.
    case.escalate_at = (now + timedelta(minutes=case.category.escalate_minutes)
                        if level_above(level) else None)
    save(case, now, "current_level", "highest_level", "escalated_at", "escalate_at")
    data = {"from": previous, "to": level, "automatic": automatic}
    event_add(case=case, kind="escalated", actor=actor, note=reason, data=data, at=now)
    audit_record(actor=actor, action="case.escalate", obj=case, detail=data)
    why = _("overdue") if automatic else reason[:120]
    tell(case=case, recipients=level_staff(case, level), kind="case.escalated", now=now,
         title=_("Case %(no)s escalated to your level (%(why)s)")
         % {"no": case.tracking_no, "why": why}, body=case.description[:200])
    return level


def case_escalate(*, actor, case: Case, version, reason: str, now=None) -> Case:
    """By hand: "beyond my capacity"."""
    now = clock(now)
    reason = text_clean(reason, "reason", limit=1000, required=True)
    with transaction.atomic():
        case = lock(case, version)
        require(actor, case, WORK, MANAGE)
        if case.status not in OPEN_STATUSES:
            raise InvalidTransition("escalate", case.status)
        if level_above(case.current_level) is None:
            raise InvalidTransition("escalate", case.status,
                                    _("The case is already at the city level."))
        escalate_now(case, actor=actor, now=now, reason=reason, automatic=False)
    return case


def cases_escalate_overdue(*, now=None, limit: int | None = None) -> int:
    """Escalate every open case whose deadline has passed, one rung each; return how many."""
    now = clock(now)
    done = 0
    last_id = 0
    while True:
        batch = list(
            Case.objects.filter(status__in=OPEN_STATUSES, escalate_at__lte=now, id__gt=last_id)
            .exclude(current_level=Level.CITY)
            .order_by("id").values_list("id", "version", "escalate_at")[:SWEEP_BATCH]
        )
        if not batch:
            return done
        for case_id, version, deadline in batch:
            last_id = case_id
            with transaction.atomic():
                case = (Case.objects.select_for_update(of=("self",)).select_related("category")
                        .filter(pk=case_id, version=version, escalate_at=deadline,
                                status__in=OPEN_STATUSES).first())
                if case is None or level_above(case.current_level) is None:
                    continue  # changed since selected: someone acted, or another sweep won
                escalate_now(case, actor=None, now=now, reason="", automatic=True)
                done += 1
            if limit is not None and done >= limit:
                return done


def cases_autoclose(*, now=None, limit: int | None = None) -> int:
    """Close resolved cases whose reopen period has passed without a rating."""
    now = clock(now)
    done = 0
    last_id = 0
    while True:
        batch = list(
            Case.objects.filter(status__in=(Status.RESOLVED, Status.VERIFIED),
                                reopen_until__lte=now, id__gt=last_id)
            .order_by("id").values_list("id", "version")[:SWEEP_BATCH]
        )
        if not batch:
            return done
        for case_id, version in batch:
            last_id = case_id
            with transaction.atomic():
                case = (Case.objects.select_for_update(of=("self",)).select_related("category")
                        .filter(pk=case_id, version=version,
                                status__in=(Status.RESOLVED, Status.VERIFIED)).first())
                if case is None:
                    continue
                close_now(case, actor=None, now=now, outcome=case.outcome or Outcome.FIXED,
                          auto=True)
                audit_record(actor=None, action="case.autoclose", obj=case)
                done += 1
            if limit is not None and done >= limit:
                return done
