from django.utils.translation import gettext_lazy as _

from zhili.core.plugins import NavItem, UrlMount, ZhiliAppConfig


class AuditConfig(ZhiliAppConfig):
    name = "zhili.audit"
    label = "audit"
    verbose_name = "Audit log"

    permissions = {"audit.view": _("Read the audit log of the area")}
    grants = {"city_admin": {"audit.view"}}
    nav_items = (NavItem(_("Audit log"), "audit:entry_list", "audit.view", order=80),)
    urls = (UrlMount("audit/", "zhili.audit.urls"),)
    api_router = ("/audit", "zhili.audit.api.router")
