"""The role-aware navigation: an item shows when the user holds its permission."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None  # None: every logged-in user


# Apps add their items here, in the order the menu shows them.
ITEMS: list[NavItem] = [
    NavItem(_("Home"), "core:home", None),
    NavItem(_("Map"), "geo:map", "geo.view_area"),
    NavItem(_("Report a problem"), "governance:report", None),
    NavItem(_("My reports"), "governance:my_cases", None),
    NavItem(_("My tasks"), "governance:tasks", "governance.work_case"),
    NavItem(_("Case queue"), "governance:queue", "governance.view_case"),
    NavItem(_("Case inbox"), "governance:inbox", "governance.handle_task"),
    NavItem(_("Case figures"), "governance:figures", "governance.view_case"),
    NavItem(_("Disputes"), "governance:dispute_list", "governance.mediate"),
    NavItem(_("Persons"), "registry:person_list", "registry.view_person"),
    NavItem(_("Organisations"), "registry:organisation_list", "registry.view_organisation"),
    NavItem(_("One thing, one go"), "bundles:list", None),
    NavItem(_("Matter inbox"), "bundles:inbox", "bundles.decide"),
    NavItem(_("Audit log"), "audit:entry_list", "audit.view"),
    NavItem(_("API docs"), "api-1.0.0:openapi-view", None),
]


def menu_for(user) -> list[dict]:
    if user is None or not user.is_authenticated:
        return []
    items = []
    for item in ITEMS:
        if item.permission and user.scope(item.permission).empty:
            continue
        items.append({"label": item.label, "url": reverse(item.url_name), "name": item.url_name})
    return items
