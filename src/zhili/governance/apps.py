from django.utils.translation import gettext_lazy as _

from zhili.accounts.roles import GRID_ROLES, OPERATOR_ROLES, Role
from zhili.core.plugins import DemoStep, NavItem, UrlMount, ZhiliAppConfig, grant, merge_grants


class GovernanceConfig(ZhiliAppConfig):
    name = "zhili.governance"
    label = "governance"
    verbose_name = "Grid governance"

    # view_case: read cases in the area; work_case: accept, check in, resolve,
    # escalate, patrol reports (the grid's own staff); manage_case: assign,
    # dispatch to departments, verify, close, reject, escalate, confirm
    # duplicates; mediate: record disputes and mediation sessions;
    # handle_task: a department officer's tasks of their department in the area.
    permissions = {
        "governance.view_case": _("See the cases and disputes of the area"),
        "governance.work_case": _("Work on the grid's cases"),
        "governance.manage_case": _("Assign, dispatch, verify and close cases"),
        "governance.mediate": _("Record disputes and mediation sessions"),
        "governance.handle_task": _("Handle the department's case tasks"),
    }
    grants = merge_grants(
        grant(GRID_ROLES | OPERATOR_ROLES | {Role.CITY_ADMIN}, {"governance.view_case"}),
        grant(GRID_ROLES, {"governance.work_case", "governance.mediate"}),
        grant(OPERATOR_ROLES, {"governance.manage_case", "governance.mediate"}),
        grant([Role.DEPARTMENT_OFFICER], {"governance.handle_task"}),
    )
    nav_items = (
        NavItem(_("Report a problem"), "governance:report", order=20),
        NavItem(_("My reports"), "governance:my_cases", order=21),
        NavItem(_("My tasks"), "governance:tasks", "governance.work_case", order=22),
        NavItem(_("Case queue"), "governance:queue", "governance.view_case", order=23),
        NavItem(_("Case inbox"), "governance:inbox", "governance.handle_task", order=24),
        NavItem(_("Case figures"), "governance:figures", "governance.view_case", order=25),
        # The list is for whoever sees cases; recording one needs governance.mediate.
        NavItem(_("Disputes"), "governance:dispute_list", "governance.view_case", order=26),
    )
    urls = (UrlMount("governance/", "zhili.governance.urls"),
            UrlMount("open311/v2/", "zhili.governance.open311.urls"))
    api_router = ("/governance", "zhili.governance.api.router")
    kpis = "zhili.governance.kpis.KPIS"
    kpi_sources = "zhili.governance.kpis.SOURCES"
    demo_steps = (DemoStep("governance", "zhili.governance.demo.seed", after=("accounts", "registry")),)

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from zhili.governance.models import Category
        from zhili.governance.services.intake import category_cache_clear

        # Intake keeps the categories per process; an edit here clears them.
        for signal in (post_save, post_delete):
            signal.connect(category_cache_clear, sender=Category,
                           dispatch_uid="governance.category_cache_clear")
