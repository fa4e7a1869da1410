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


class EmergencyConfig(ZhiliAppConfig):
    name = "zhili.emergency"
    label = "emergency"
    verbose_name = "Emergency: rescue resources, roads, rescue circles"

    # view_resource: the area's rescue resources (contacts masked; in full audited);
    # manage_resource: add, move, change availability; view_coverage: rescue circles and gaps.
    permissions = {
        "emergency.view_resource": _("See the rescue resources of the area"),
        "emergency.manage_resource": _("Add and change rescue resources"),
        "emergency.view_coverage": _("See the rescue circles, coverage and gaps of the area"),
        "emergency.view_incident": _("See the incidents of the area"),
        "emergency.manage_incident": _("Open, dispatch to and close incidents"),
    }
    grants = merge_grants(
        grant(OPERATOR_ROLES | {Role.EMERGENCY_COMMANDER, Role.CITY_ADMIN},
              {"emergency.view_resource", "emergency.view_coverage", "emergency.view_incident"}),
        grant({Role.EMERGENCY_COMMANDER, Role.DISTRICT_OPERATOR, Role.CITY_OPERATOR,
               Role.CITY_ADMIN}, {"emergency.manage_resource", "emergency.manage_incident"}),
    )
    nav_items = (NavItem(_("Rescue circles"), "emergency:coverage", "emergency.view_coverage",
                         order=45),
                 NavItem(_("Incidents"), "emergency:incidents", "emergency.view_incident",
                         order=44))
    urls = (UrlMount("emergency/", "zhili.emergency.urls"),)
    api_router = ("/emergency", "zhili.emergency.api.router")
    demo_steps = (DemoStep("emergency", "zhili.emergency.demo.seed", after=("warning",)),
                  # Some teams get a leader account, the others keep their contact phone.
                  DemoStep("emergency-teams", "zhili.emergency.demo.teams_seed",
                           after=("emergency", "accounts"),
                           logins="zhili.emergency.demo.team_logins"),
                  DemoStep("emergency-incidents", "zhili.emergency.demo_incidents.seed",
                           after=("emergency-teams", "accounts")))
    map_layers = (
        MapLayer("rescue-resources", _("Rescue resources"), "emergency:layer_resources",
                 "emergency.view_resource"),
        MapLayer("rescue-circles", _("Rescue circles"), "emergency:layer_circles",
                 "emergency.view_coverage"),
        MapLayer("incidents", _("Open incidents"), "emergency:layer_incidents",
                 "emergency.view_incident"),
    )

    def ready(self):
        super().ready()
        # A member's acknowledgement of "your team is sent" shows on the incident's timeline.
        from zhili.emergency.team_notice import team_acknowledged
        from zhili.notifications.services.inbox import delivery_acknowledged

        delivery_acknowledged.connect(team_acknowledged, dispatch_uid="emergency.team_ack")
