"""Governance pages (templates + htmx), one module per audience; see urls.py."""

from zhili.governance.views.department import inbox, task_action
from zhili.governance.views.disputes import (
    dispute_action,
    dispute_detail,
    dispute_list,
    dispute_new,
)
from zhili.governance.views.figures import figures
from zhili.governance.views.pwa import manifest, offline, service_worker
from zhili.governance.views.resident import (
    my_case,
    my_case_rate,
    my_case_reopen,
    my_cases,
    patrol,
    report,
    report_done,
)
from zhili.governance.views.staff import (
    case_action,
    case_contact,
    case_detail,
    home,
    overdue,
    photo,
    queue,
    tasks,
)

__all__ = [
    "inbox", "task_action", "figures", "manifest", "offline", "service_worker", "my_case",
    "my_case_rate", "my_case_reopen", "my_cases", "patrol", "report", "report_done",
    "case_action", "case_contact", "case_detail", "home", "overdue", "photo", "queue", "tasks",
    "dispute_action", "dispute_detail", "dispute_list", "dispute_new",
]
