"""The role-aware menu: the apps' nav items (see core.plugins) that the user may open.

An item shows when the user holds its permission somewhere (the page itself
then lists only what is in their area) and its `visible` predicate, if any,
says yes. A menu never offers a page that answers 403.
"""

from __future__ import annotations

from django.urls import reverse

from zhili.core.plugins import registry, resolve


def _may_open(user, item) -> bool:
    if item.permission and user.scope(item.permission).empty:
        return False
    return not item.visible or bool(resolve(item.visible)(user))


def home_for(user) -> str | None:
    """The URL of the first menu item declared `home` that the user may open, if any."""
    if user is None or not user.is_authenticated:
        return None
    for item in registry().nav_items:
        if item.home and _may_open(user, item):
            return reverse(item.url_name)
    return None


def menu_for(user) -> list[dict]:
    if user is None or not user.is_authenticated:
        return []
    items = []
    for item in registry().nav_items:
        if not _may_open(user, item):
            continue
        items.append({"label": item.label, "url": reverse(item.url_name), "name": item.url_name})
    return items
