from django.utils.translation import gettext_lazy as _

from zhili.accounts.roles import OPERATOR_ROLES, STAFF_ROLES, Role
from zhili.core.plugins import DemoStep, NavItem, UrlMount, ZhiliAppConfig, grant, merge_grants


class RegistryConfig(ZhiliAppConfig):
    name = "zhili.registry"
    label = "registry"
    verbose_name = _("Base registries")

    permissions = {
        "registry.view_person": _("See persons of the area (masked)"),
        "registry.view_organisation": _("See organisations of the area"),
        "registry.view_certificate": _("See e-certificates of the area"),
        "registry.reveal_person": _("Reveal a person's full data for a stated purpose"),
        "registry.change_person": _("Change persons"),
        "registry.change_organisation": _("Change organisations"),
        "registry.issue_certificate": _("Issue e-certificates"),
    }
    grants = merge_grants(
        grant(STAFF_ROLES, {"registry.view_person", "registry.view_organisation",
                            "registry.view_certificate"}),
        grant((OPERATOR_ROLES - {Role.COMMUNITY_STAFF}) | {Role.DEPARTMENT_OFFICER, Role.CITY_ADMIN},
              {"registry.reveal_person"}),
        grant([Role.DEPARTMENT_OFFICER, Role.CITY_ADMIN], {"registry.issue_certificate"}),
        grant([Role.CITY_ADMIN], {"registry.change_person", "registry.change_organisation"}),
    )
    nav_items = (
        NavItem(_("Persons"), "registry:person_list", "registry.view_person", order=40),
        NavItem(_("Organisations"), "registry:organisation_list", "registry.view_organisation",
                order=41),
    )
    urls = (UrlMount("registry/", "zhili.registry.urls"),)
    api_router = ("/registry", "zhili.registry.api.router")
    demo_steps = (DemoStep("registry", "zhili.registry.demo.seed", after=("geo",)),)
