from django.utils.translation import gettext_lazy as _

from zhili.core.plugins import DemoStep, NavItem, UrlMount, ZhiliAppConfig, grant, merge_grants

# geo sits below accounts, so it names roles by their values (accounts.roles.Role).
SEES_THE_MAP = ("grid_worker", "grid_leader", "community_staff", "street_operator",
                "district_operator", "city_operator", "department_officer", "emergency_commander",
                "city_admin", "responsible_person")


class GeoConfig(ZhiliAppConfig):
    name = "zhili.geo"
    label = "geo"
    verbose_name = "City geography"

    permissions = {
        "geo.view_area": _("See the areas and the map"),
        "geo.change_area": _("Import and change area boundaries"),
    }
    grants = merge_grants(grant(SEES_THE_MAP, {"geo.view_area"}),
                          grant(["city_admin"], {"geo.change_area"}))
    nav_items = (NavItem(_("Map"), "geo:map", "geo.view_area", order=10),)
    urls = (UrlMount("geo/", "zhili.geo.urls"),)
    api_router = ("/geo", "zhili.geo.api.router")
    demo_steps = (DemoStep("geo", "zhili.geo.demo.seed"),)

    def ready(self):
        from zhili.geo import checks  # noqa: F401  (registers the tile settings checks)
