"""Who reported a case and how to reach them: masked by default, shown for a purpose.

- The contact (name, phone, e-mail) of a case is shown to its staff masked;
  those who handle the case (`work_case` or `manage_case` over its area)
  reveal it for a stated purpose, audited as `case.contact_reveal`.
- An anonymous report's reporter is never named to staff, and its audit rows
  say `anonymous`: the one link to the person is the case's `reporter` (kept
  so they can follow, rate and reopen their case). An auditor (`audit.view`
  over the case's area) may read it for a stated purpose, itself audited as
  `case.reporter_reveal`. See docs/security.md, "Anonymous reports".
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core import context
from zhili.core.errors import PermissionDenied
from zhili.core.personal import purpose_clean
from zhili.governance.models import Case
from zhili.governance.services.common import MANAGE, WORK, has

AUDIT_VIEW = "audit.view"
CONTACT_FIELDS = ["contact_name", "contact_phone", "contact_email"]


def is_sealed_reporter(case: Case, actor) -> bool:
    """Whether `actor` is the reporter of an anonymous case (and so is audited unnamed)."""
    return bool(case.anonymous and case.reporter_id and getattr(actor, "pk", None)
                and actor.pk == case.reporter_id)


def case_audit(*, actor, action: str, case: Case, **kwargs):
    """audit_record for an act on a case; the reporter of an anonymous case is recorded
    as `anonymous`, without their address or their request's id (which would tie the
    row to their other requests), so an audit reader sees no link."""
    if not is_sealed_reporter(case, actor):
        return audit_record(actor=actor, action=action, obj=case, **kwargs)
    sealed = context.RequestContext(request_id=context.new_request_id(), client_ip=None,
                                    channel=context.current().channel)
    with context.bind(sealed):
        return audit_record(actor=AnonymousUser(), action=action, obj=case, **kwargs)


def may_reveal_contact(actor, case: Case) -> bool:
    """Those who handle the case: its workers and managers over its area."""
    return not case.anonymous and (has(actor, WORK, case.area_path)
                                   or has(actor, MANAGE, case.area_path))


def case_contact_reveal(*, actor, case: Case, purpose: str) -> Case:
    """The case's contact in full, for a stated purpose, audited; else 403/422."""
    if not may_reveal_contact(actor, case):
        raise PermissionDenied(_("You may not see this case's contact in full."))
    purpose = purpose_clean(purpose)
    with transaction.atomic():
        audit_record(actor=actor, action="case.contact_reveal", obj=case, purpose=purpose,
                     detail={"fields": [f for f in CONTACT_FIELDS if getattr(case, f)]})
    return case


def case_reporter_reveal(*, actor, case: Case, purpose: str) -> Case:
    """Who reported an anonymous case: for an auditor of its area, with a purpose, audited."""
    if not has(actor, AUDIT_VIEW, case.area_path):
        raise PermissionDenied(_("Only an auditor of the case's area may see who reported it."))
    purpose = purpose_clean(purpose)
    with transaction.atomic():
        audit_record(actor=actor, action="case.reporter_reveal", obj=case, purpose=purpose,
                     detail={"anonymous": case.anonymous})
    return case
