from django.utils.translation import gettext_lazy as _

from zhili.accounts.roles import OPERATOR_ROLES, Role
from zhili.core.plugins import (
    DemoStep,
    MapLayer,
    NavItem,
    UrlMount,
    ZhiliAppConfig,
    grant,
    merge_grants,
)


class FloodConfig(ZhiliAppConfig):
    name = "zhili.flood"
    label = "flood"
    verbose_name = "Flood and waterlogging forecasts (EPA SWMM)"

    # view_flood: the area's drainage models and forecast runs;
    # run_flood: attach models and start forecast runs (which may raise warnings).
    permissions = {
        "flood.view_flood": _("See the drainage models and flood forecasts of the area"),
        "flood.run_flood": _("Attach drainage models and run flood forecasts"),
    }
    grants = merge_grants(
        grant(OPERATOR_ROLES | {Role.EMERGENCY_COMMANDER, Role.CITY_ADMIN}, {"flood.view_flood"}),
        grant({Role.DISTRICT_OPERATOR, Role.CITY_OPERATOR, Role.EMERGENCY_COMMANDER,
               Role.CITY_ADMIN}, {"flood.run_flood"}),
    )
    nav_items = (NavItem(_("Flood forecasts"), "flood:list", "flood.view_flood", order=45),)
    urls = (UrlMount("flood/", "zhili.flood.urls"),)
    api_router = ("/flood", "zhili.flood.api.router")
    demo_steps = (DemoStep("flood", "zhili.flood.demo.seed", after=("warning",)),)
    map_layers = (MapLayer("flooded-nodes", _("Flooded nodes (latest forecast)"),
                           "flood:layer_flooded", "flood.view_flood"),)
