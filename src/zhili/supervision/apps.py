from django.utils.translation import gettext_lazy as _

from zhili.accounts.roles import OPERATOR_ROLES, Role
from zhili.core.plugins import DemoStep, NavItem, UrlMount, ZhiliAppConfig, grant, merge_grants


class SupervisionConfig(ZhiliAppConfig):
    name = "zhili.supervision"
    label = "supervision"
    verbose_name = "Supervision: figures, reports, problem lists"

    # view_supervision: KPIs, dashboard, rankings, reports and problem lists of the area;
    # manage_problems: open, move and verify problem items; manage_reports: schedule,
    # regenerate reports; manage_assessments: edit scoring rules; manage_problem_rules:
    # set the KPI rules that raise problems in the area.
    permissions = {
        "supervision.view_supervision": _("See the area's KPIs, rankings, reports and problems"),
        "supervision.manage_problems": _("Open, rectify and verify problem list items"),
        "supervision.manage_reports": _("Schedule and regenerate reports"),
        "supervision.manage_assessments": _("Edit the scoring rules of assessments"),
        "supervision.manage_problem_rules": _("Set the KPI rules that raise problems"),
    }
    # Operators and officials read; operators work the problem lists; reports are run
    # from street level up; the scoring rules are the city's. Department officers read
    # too: a problem owned by their department is theirs to put right.
    grants = merge_grants(
        grant(OPERATOR_ROLES | {Role.GRID_LEADER, Role.EMERGENCY_COMMANDER, Role.CITY_ADMIN,
                                Role.DEPARTMENT_OFFICER},
              {"supervision.view_supervision"}),
        grant(OPERATOR_ROLES | {Role.CITY_ADMIN}, {"supervision.manage_problems"}),
        grant({Role.STREET_OPERATOR, Role.DISTRICT_OPERATOR, Role.CITY_OPERATOR,
               Role.CITY_ADMIN}, {"supervision.manage_reports"}),
        # A rule raises problems across an area unattended: set from street level up.
        grant({Role.STREET_OPERATOR, Role.DISTRICT_OPERATOR, Role.CITY_OPERATOR,
               Role.CITY_ADMIN}, {"supervision.manage_problem_rules"}),
        grant({Role.CITY_OPERATOR, Role.CITY_ADMIN}, {"supervision.manage_assessments"}),
    )
    nav_items = (
        NavItem(_("Supervision"), "supervision:dashboard", "supervision.view_supervision",
                order=70),
        NavItem(_("Reports"), "supervision:reports", "supervision.view_supervision", order=71),
        NavItem(_("Problems"), "supervision:problems", "supervision.view_supervision", order=72),
    )
    urls = (UrlMount("supervision/", "zhili.supervision.urls"),)
    api_router = ("/supervision", "zhili.supervision.api.router")
    kpis = "zhili.supervision.kpis.KPIS"
    demo_steps = (DemoStep("supervision", "zhili.supervision.demo.seed",
                           after=("governance", "bundles", "warning")),)
