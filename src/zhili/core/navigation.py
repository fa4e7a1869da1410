"""The role-aware menu: the apps' nav items (see core.plugins) that the user may open.

An item shows when the user holds its permission somewhere (the page itself
then lists only what is in their area) and its `visible` predicate, if any,
says yes. A menu never offers a page that answers 403.
"""

from __future__ import annotations

from django.urls import reverse

from zhili.core.plugins import registry, resolve


def menu_for(user) -> list[dict]:
    if user is None or not user.is_authenticated:
        return []
    items = []
    for item in registry().nav_items:
        if item.permission and user.scope(item.permission).empty:
            continue
        if item.visible and not resolve(item.visible)(user):
            continue
        items.append({"label": item.label, "url": reverse(item.url_name), "name": item.url_name})
    return items
