from django.utils.translation import gettext_lazy as _

from zhili.accounts.roles import GRID_ROLES, OPERATOR_ROLES, Role
from zhili.core.plugins import (
    DemoStep,
    MapLayer,
    NavItem,
    UrlMount,
    ZhiliAppConfig,
    grant,
    merge_grants,
)

VIEW_MAP = "cockpit.view_map"
DISPATCH = "cockpit.dispatch"
REPORT_POSITION = "cockpit.report_position"


class CockpitConfig(ZhiliAppConfig):
    name = "zhili.cockpit"
    label = "cockpit"
    verbose_name = "The one map"

    permissions = {
        VIEW_MAP: _("See the one map of the area with its live updates"),
        DISPATCH: _("Dispatch a case to the nearest free grid worker from the map"),
        REPORT_POSITION: _("Report one's own position from the phone"),
    }
    grants = merge_grants(
        grant(OPERATOR_ROLES | {Role.EMERGENCY_COMMANDER, Role.CITY_ADMIN}, {VIEW_MAP}),
        # Assigning a case is governance's manage_case, which the operators hold.
        grant(OPERATOR_ROLES, {DISPATCH}),
        grant(GRID_ROLES, {REPORT_POSITION}),
    )
    # home=True: the operators' home page is the map (core's home view follows it).
    nav_items = (NavItem(_("The one map"), "cockpit:map", VIEW_MAP, order=5, home=True),)
    urls = (UrlMount("cockpit/", "zhili.cockpit.urls"),)
    api_router = ("/cockpit", "zhili.cockpit.api.router")
    demo_steps = (DemoStep("cockpit", "zhili.cockpit.demo.seed", after=("governance", "warning")),)
    map_layers = (
        MapLayer("cases", _("Live cases"), "cockpit:layer_cases", "governance.view_case",
                 viewport=True),
        MapLayer("workers", _("Grid workers"), "cockpit:layer_workers", VIEW_MAP),
    )

    def ready(self):
        from zhili.cockpit.hooks import connect

        connect()
