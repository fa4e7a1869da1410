from django.utils.translation import gettext_lazy as _

from zhili.accounts.roles import OPERATOR_ROLES, STAFF_ROLES, Role
from zhili.core.plugins import NavItem, UrlMount, ZhiliAppConfig, grant, merge_grants


class SupervisionConfig(ZhiliAppConfig):
    name = "zhili.supervision"
    label = "supervision"
    verbose_name = "Supervision: figures, reports, problem lists"

    # view_supervision: the area's reports and problem lists; manage_problems: raise,
    # verify, return and close problems; manage_reports: regenerate reports, own a series.
    permissions = {
        "supervision.view_supervision": _("See the area's supervision reports and problem lists"),
        "supervision.manage_problems": _("Raise, verify, return and close problems"),
        "supervision.manage_reports": _("Regenerate reports and own a report series"),
    }
    grants = merge_grants(
        grant(STAFF_ROLES - {Role.GRID_WORKER, Role.GRID_LEADER}, {"supervision.view_supervision"}),
        grant(OPERATOR_ROLES | {Role.CITY_ADMIN}, {"supervision.manage_problems"}),
        grant(OPERATOR_ROLES - {Role.COMMUNITY_STAFF} | {Role.CITY_ADMIN},
              {"supervision.manage_reports"}),
    )
    nav_items = (
        NavItem(_("Reports"), "supervision:reports", "supervision.view_supervision", order=60),
        NavItem(_("Problems"), "supervision:problems", "supervision.view_supervision", order=61),
    )
    urls = (UrlMount("supervision/", "zhili.supervision.urls"),)
