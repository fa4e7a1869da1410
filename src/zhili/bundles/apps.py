from django.utils.translation import gettext_lazy as _

from zhili.accounts.roles import Role
from zhili.core.plugins import DemoStep, NavItem, UrlMount, ZhiliAppConfig


class BundlesConfig(ZhiliAppConfig):
    # The architecture calls this app `services`; that would read zhili.services.services.
    name = "zhili.bundles"
    label = "bundles"
    verbose_name = _("One thing, one go (一件事一次办)")

    permissions = {
        "bundles.apply": _("Apply for bundled services"),
        "bundles.decide": _("Decide the matters of one's department"),
        "bundles.manage_catalogue": _("Manage the catalogue of matters and bundles"),
    }
    grants = {
        Role.RESIDENT: {"bundles.apply"},
        Role.DEPARTMENT_OFFICER: {"bundles.decide"},
        Role.CITY_ADMIN: {"bundles.manage_catalogue"},
    }
    nav_items = (
        NavItem(_("One thing, one go"), "bundles:list", order=50),
        # Deciding needs a department as well as the permission.
        NavItem(_("Matter inbox"), "bundles:inbox", "bundles.decide", order=51,
                visible="zhili.bundles.access.is_officer"),
    )
    urls = (UrlMount("bundles/", "zhili.bundles.urls"),)
    api_router = ("/bundles", "zhili.bundles.api.router")
    kpis = "zhili.bundles.kpis.KPIS"
    kpi_sources = "zhili.bundles.kpis.SOURCES"
    demo_steps = (DemoStep("bundles", "zhili.bundles.demo.seed",
                           after=("accounts", "registry", "governance"),
                           logins="zhili.bundles.demo.logins"),)
