from zhili.core.plugins import DemoStep, MapLayer, NavItem, UrlMount, ZhiliAppConfig


class StreetLampsConfig(ZhiliAppConfig):
    name = "zhili.core.tests.plugin_app"
    label = "lamps"
    verbose_name = "Street lamps"

    permissions = {"lamps.view_lamp": "See the street lamps of the area"}
    grants = {"street_operator": {"lamps.view_lamp"}}
    nav_items = (NavItem("Street lamps", "lamps:list", "lamps.view_lamp", order=60),)
    urls = (UrlMount("lamps/", "zhili.core.tests.plugin_app.urls"),)
    demo_steps = (DemoStep("lamps", "zhili.core.tests.plugin_app.demo.seed", after=("accounts",),
                           logins="zhili.core.tests.plugin_app.demo.logins"),)
    map_layers = (MapLayer("lamps", "Street lamps", "lamps:geojson", "lamps.view_lamp"),)
