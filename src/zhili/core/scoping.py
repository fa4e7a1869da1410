"""Area scoping: every scoped row carries the materialized path of its area.

A role held on a node covers its subtree, so "may this actor see this row" is
`row.area_path startswith one of the actor's paths`: one index range scan per
path on SQLite and PostgreSQL alike (the Wagtail tree-permission idea).
Paths end in "/" so that `500103/` never matches `5001031/`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Q


@dataclass(frozen=True)
class Scope:
    """Where an actor holds a permission: everywhere, or under these paths."""

    paths: tuple[str, ...] = ()
    everywhere: bool = False

    @classmethod
    def nowhere(cls) -> Scope:
        return cls()

    @property
    def empty(self) -> bool:
        return not self.everywhere and not self.paths

    def covers(self, path: str | None) -> bool:
        if self.everywhere:
            return True
        return bool(path) and any(path.startswith(p) for p in self.paths)

    def q(self, field: str = "area_path") -> Q:
        """A filter for rows whose `field` lies in this scope."""
        if self.everywhere:
            return Q()
        if not self.paths:
            return Q(pk__in=[])
        condition = Q()
        for path in self.paths:
            condition |= Q(**{f"{field}__startswith": path})
        return condition


def minimal_paths(paths) -> tuple[str, ...]:
    """Drop paths covered by another (a district role makes its streets' redundant)."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return tuple(sorted(kept))


def scope_of(actor, permission: str) -> Scope:
    """The actor's scope for a permission; anonymous actors have none."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Scope.nowhere()
    return actor.scope(permission)


class AreaScopedQuerySet(models.QuerySet):
    """`Model.objects.restrict(actor, perm)`: the rows the actor may see."""

    area_field = "area_path"

    def restrict(self, actor, permission: str):
        return self.filter(scope_of(actor, permission).q(self.area_field))


class AreaScopedModel(models.Model):
    """Base for rows that belong to an area of the city."""

    area_path = models.CharField(max_length=96, db_index=True, editable=False)

    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        abstract = True
