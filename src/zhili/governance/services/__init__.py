"""Governance writes: every use case that can happen to a case or a dispute.

A package (split by stage) re-exported here, so callers import
`from zhili.governance.services import case_report, case_accept, …`.
"""

from zhili.governance.catalogue import category_seed
from zhili.governance.services.departments import (
    case_dispatch_departments,
    department_task_accept,
    department_task_complete,
    department_task_return,
    duty_shift_set,
)
from zhili.governance.services.disputes import dispute_record, dispute_resolve, mediation_record
from zhili.governance.services.escalation import (
    case_escalate,
    cases_autoclose,
    cases_escalate_overdue,
)
from zhili.governance.services.intake import case_report
from zhili.governance.services.lifecycle import (
    case_accept,
    case_arrive,
    case_assign,
    case_close,
    case_duplicate_confirm,
    case_duplicate_split,
    case_rate,
    case_reject,
    case_reopen,
    case_resolve,
    case_verify,
)
from zhili.governance.services.privacy import case_contact_reveal, case_reporter_reveal

__all__ = [
    "category_seed", "case_report", "case_accept", "case_arrive", "case_assign", "case_close",
    "case_duplicate_confirm", "case_duplicate_split", "case_rate", "case_reject", "case_reopen",
    "case_resolve", "case_verify", "case_escalate", "cases_autoclose", "cases_escalate_overdue",
    "case_dispatch_departments", "department_task_accept", "department_task_complete",
    "department_task_return", "duty_shift_set", "dispute_record", "dispute_resolve",
    "mediation_record", "case_contact_reveal", "case_reporter_reveal",
]
