"""Apps plug in: each declares on its AppConfig what it adds to the platform.

An app's `apps.py` subclasses `ZhiliAppConfig` and states, in its own
package, the permissions it defines and which roles hold them, its menu
entries, its URL mounts and API router, its demo seeding step and its map
layers (NetBox's `PluginConfig` idea on Django's `AppConfig`). Its periodic
jobs are the `@periodic` tasks of its `tasks.py`, which `core.periodic`
finds by itself. core and accounts read the assembled declarations through
`registry()` and never name a domain app, so an app is added or removed by
its line in INSTALLED_APPS alone. docs/architecture.md, "Adding an app",
walks through one.

Declarations name things by string (dotted paths, URL names, role values):
AppConfig classes are imported before models exist, and a lower app must not
import a higher one to refer to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import AppConfig, apps
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class NavItem:
    """A menu entry: shown when the user holds `permission` somewhere (None: every
    logged-in user) and `visible(user)`, if given, says yes."""

    label: str
    url_name: str
    permission: str | None = None
    order: int = 500
    visible: str | None = None  # dotted path of a predicate taking the user
    # The user's home page: "/" opens the first such item the user may open.
    home: bool = False


@dataclass(frozen=True)
class DemoStep:
    """`seed(*, seed, log)` adds what is missing of the demo data (idempotent).

    Steps run after those named in `after` and otherwise in INSTALLED_APPS
    order. `logins()`, if given, returns (username, where, role label) rows
    that `zhili demo` prints under "Demo logins".
    """

    name: str
    seed: str  # dotted path
    after: tuple[str, ...] = ()
    logins: str | None = None  # dotted path


@dataclass(frozen=True)
class MapLayer:
    """A GeoJSON overlay for the map: `url_name` answers a FeatureCollection
    (WGS84) already scoped to the requesting user. A `viewport` layer is asked
    again with `bbox` and `zoom` whenever the map moves, and may answer clusters
    (geo/viewport.py): for layers too big to send whole."""

    name: str
    label: str
    url_name: str
    permission: str
    viewport: bool = False


@dataclass(frozen=True)
class UrlMount:
    prefix: str  # e.g. "governance/"
    module: str  # e.g. "zhili.governance.urls"


@dataclass(frozen=True)
class Kpi:
    """A key performance indicator an app contributes (the supervision app reads them).

    `value(components)` turns the summed additive components of its roll-up
    `source` (counts, sums, histogram bins) into the figure, or None when there is
    nothing to measure (`empty` says why). A KPI that is not summed from a roll-up
    gives `direct(area_path, start, end) -> (value, reason)` instead.
    """

    code: str  # "<app label>.<name>"
    name: str  # gettext_lazy: shown in both languages
    formula: str  # gettext_lazy: the formula in words
    unit: str  # "count", "share", "minutes", "days", "distribution", …
    better: str  # "higher", "lower" or "neither"
    reads: str  # the module it reads, e.g. "zhili.governance.selectors"
    source: str | None = None  # KpiSource.name
    value: Callable | None = None
    empty: str = ""  # gettext_lazy: why `value` gives None
    direct: Callable | None = None
    headline: bool = False  # on the dashboard's first row


@dataclass(frozen=True)
class KpiSource:
    """Where roll-ups come from: an app's events table and its additive components.

    `changes(after_id, limit)` -> [(event id, area_path, bucket time)] of entities
    changed by events after `after_id`, in id order; `components(area_path=None,
    start=None, end=None)` -> {(area_path, local date): {component: int}} of the
    entities whose bucket time falls in [start, end) (all when None), computed
    from live data. An entity's (area_path, bucket time) must not change.
    """

    name: str
    changes: Callable
    components: Callable
    #: optional `queries(under=None, buckets=None)` -> [(grouped queryset, group
    #: fields, aggregate names)] (`area_day_grouped`'s querysets) of the entities
    #: under the area path `under`, or in `buckets` [(area_path, start, end)]: the
    #: same components as SQL, for a set-based rebuild and a batched poll.
    queries: Callable | None = None


def components_by_area_day(rows, time_field: str, group: tuple[str, ...] = (), **aggregates):
    """{(area_path, local date): {component: n}} of a queryset, for `KpiSource.components`.

    The day is the city's (settings.TIME_ZONE). With `group`, each value of those
    fields makes its own component, "<aggregate>.<value>" (a distribution or a
    histogram). Durations become whole minutes. Zero components are left out:
    absent means 0.
    """
    return area_day_cells(area_day_grouped(rows, time_field, group, **aggregates), group,
                          tuple(aggregates))


def area_day_cells(grouped, group: tuple[str, ...], names: tuple[str, ...]) -> dict:
    """`components_by_area_day`'s result from its grouped queryset (`area_day_grouped`)."""
    from collections import Counter
    from datetime import timedelta

    out: dict = {}
    for row in grouped:
        cell = out.setdefault((row["area_path"], row["_day"]), Counter())
        suffix = "".join(f".{row[g]}" for g in group)
        for name in names:
            value = row[f"_k_{name}"]
            if isinstance(value, timedelta):  # a sum of durations counts whole minutes
                value = value.total_seconds() // 60
            if value:
                cell[name + suffix] += int(value)
    return out


def area_day_grouped(rows, time_field: str, group: tuple[str, ...] = (), **aggregates):
    """The grouped queryset behind `components_by_area_day`: area_path, _day (the
    city's local date), the `group` fields, and `_k_<name>` per aggregate."""
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.db.models.functions import TruncDate

    day = TruncDate(time_field, tzinfo=ZoneInfo(settings.TIME_ZONE))
    return (rows.annotate(_day=day).values("area_path", "_day", *group)
            .annotate(**{f"_k_{name}": agg for name, agg in aggregates.items()}).order_by())


class ZhiliAppConfig(AppConfig):
    """Base for every Zhili app. Leave out what the app does not add."""

    #: permission name ("<app label>.<verb>_<thing>") -> label shown to people
    permissions: dict[str, str] = {}
    #: role value ("grid_worker", see accounts.roles.Role) -> permissions it gets
    grants: dict[str, frozenset[str] | set[str]] = {}
    nav_items: tuple[NavItem, ...] = ()
    urls: tuple[UrlMount, ...] = ()
    #: (path under /api/v1, "module.attribute" of a ninja Router)
    api_router: tuple[str, str] | None = None
    demo_steps: tuple[DemoStep, ...] = ()
    map_layers: tuple[MapLayer, ...] = ()
    #: dotted paths of a list of Kpi and of KpiSource, e.g. "zhili.governance.kpis.KPIS"
    kpis: str | None = None
    kpi_sources: str | None = None

    # Django picks the one AppConfig subclass an apps.py defines or imports; this
    # base, imported there too, must not count (`default`), its subclasses must.
    default = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "default" not in cls.__dict__:
            cls.default = True


@dataclass(frozen=True)
class Registry:
    """What the installed apps declared, assembled once per app set."""

    app_labels: tuple[str, ...]
    permissions: dict[str, str]
    role_permissions: dict[str, frozenset[str]]
    nav_items: tuple[NavItem, ...]
    urls: tuple[UrlMount, ...]
    api_routers: tuple[tuple[str, str], ...]
    demo_steps: tuple[DemoStep, ...]
    map_layers: tuple[MapLayer, ...]
    kpis: tuple[str, ...] = field(default=())
    kpi_sources: tuple[str, ...] = field(default=())
    problems: tuple[str, ...] = field(default=())


def zhili_apps() -> list[ZhiliAppConfig]:
    return [c for c in apps.get_app_configs() if isinstance(c, ZhiliAppConfig)]


@functools.cache
def registry() -> Registry:
    configs = zhili_apps()
    problems: list[str] = []
    permissions: dict[str, str] = {}
    for config in configs:
        for name, label in config.permissions.items():
            if not name.startswith(config.label + "."):
                problems.append(f"{config.label}: permission {name!r} is not named {config.label}.<…>")
            permissions[name] = label
    grants: dict[str, set[str]] = {}
    for config in configs:
        for role, perms in config.grants.items():
            unknown = set(perms) - permissions.keys()
            if unknown:
                problems.append(f"{config.label}: grants undeclared {sorted(unknown)} to {role!r}")
            grants.setdefault(str(role), set()).update(perms)
    nav = sorted((item for c in configs for item in c.nav_items), key=lambda i: i.order)
    layers = tuple(layer for c in configs for layer in c.map_layers)
    for item in [*nav, *layers]:
        if item.permission and item.permission not in permissions:
            problems.append(f"{item.url_name}: permission {item.permission!r} is not declared")
    return Registry(
        app_labels=tuple(c.label for c in configs),
        permissions=permissions,
        role_permissions={role: frozenset(perms) for role, perms in grants.items()},
        nav_items=tuple(nav),
        urls=tuple(mount for c in configs for mount in c.urls),
        api_routers=tuple(c.api_router for c in configs if c.api_router),
        demo_steps=_ordered_steps([s for c in configs for s in c.demo_steps], problems),
        map_layers=layers,
        kpis=tuple(c.kpis for c in configs if c.kpis),
        kpi_sources=tuple(c.kpi_sources for c in configs if c.kpi_sources),
        problems=tuple(problems),
    )


def _ordered_steps(steps: list[DemoStep], problems: list[str]) -> tuple[DemoStep, ...]:
    """Dependencies first; otherwise the declared (INSTALLED_APPS) order."""
    by_name = {s.name: s for s in steps}
    done: dict[str, DemoStep] = {}
    visiting: set[str] = set()

    def visit(step: DemoStep) -> None:
        if step.name in done:
            return
        if step.name in visiting:
            problems.append(f"demo step {step.name!r} depends on itself")
            return
        visiting.add(step.name)
        for dependency in step.after:
            if dependency in by_name:
                visit(by_name[dependency])
            else:
                problems.append(f"demo step {step.name!r} runs after unknown {dependency!r}")
        visiting.discard(step.name)
        done[step.name] = step

    for step in steps:
        visit(step)
    return tuple(done.values())


def grant(roles, permissions) -> dict[str, frozenset[str]]:
    """{role: permissions} for each of `roles`: the shape of `grants`."""
    return {str(role): frozenset(permissions) for role in roles}


def merge_grants(*parts: dict) -> dict[str, frozenset[str]]:
    """One `grants` from several: grants(A) | grants(B) role by role."""
    merged: dict[str, frozenset[str]] = {}
    for part in parts:
        for role, perms in part.items():
            merged[str(role)] = merged.get(str(role), frozenset()) | frozenset(perms)
    return merged


@functools.cache
def resolve(dotted: str) -> Callable:
    return import_string(dotted)


@receiver(setting_changed)
def _installed_apps_changed(*, setting, **kwargs):
    # Tests install an app with override_settings(INSTALLED_APPS=...).
    if setting == "INSTALLED_APPS":
        registry.cache_clear()
