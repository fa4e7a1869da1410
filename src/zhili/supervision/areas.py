"""Areas the supervision jobs walk, and the reader that sees exactly one area.

A scheduled report or rule has no person behind it. It reads the other
apps through their actor-scoped selectors as `AreaReader(area)`: an actor
whose every permission covers that area's subtree and nothing else, so a
street's report can only ever contain that street.
"""

from __future__ import annotations

from zhili.core.scoping import Scope
from zhili.geo.models import AreaNode


def areas_at_level(level: str, *, under: str = ""):
    """The areas of `level`, only those in the subtree of the path `under` when given."""
    rows = AreaNode.objects.filter(level=level).defer("geometry").order_by("path")
    return rows.filter(path__startswith=under) if under else rows


class AreaReader:
    is_authenticated = True
    is_active = True
    is_superuser = False
    pk = id = None

    def __init__(self, area):
        self.area = area
        self._scope = Scope(paths=(area.path,))

    def scope(self, permission: str) -> Scope:
        return self._scope

    def has_perm_in(self, permission: str, path: str | None) -> bool:
        return self._scope.covers(path)

    def active_assignments(self) -> list:
        return []  # no department posts: it reads as the area, not as a department

    def __str__(self):
        return f"reader of {self.area.path}"
