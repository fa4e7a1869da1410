"""Roll-ups: the KPI components of every source, per area and local day, kept up
to date from the apps' events and never recomputed on a page view.

A change to an entity (a case event, say) marks its bucket: its own area and
the local day of its bucket time. Refreshing a bucket recomputes that bucket's
components from live data (a few rows), compares them with the bucket's `own`
cells, and adds the difference to the subtree cells of the area and each of its
ancestors. Components are counts and sums, so the result equals a full
recomputation (`rebuild`), which the property test checks.

One poller per source at a time: the poller locks the source's cursor row
(FOR UPDATE SKIP LOCKED), so a second worker skips it rather than counting a
difference twice. Event ids are taken in order; a gap (an event whose
transaction has not committed yet, or was rolled back) is waited for
GAP_WAIT, then skipped.
"""

from __future__ import annotations

import functools
import logging
import operator
import re
from collections import Counter
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from zhili.core.plugins import area_day_cells
from zhili.supervision.kpis import sources
from zhili.supervision.models import RollupCell, RollupCursor
from zhili.supervision.periods import city_zone, day_bounds

logger = logging.getLogger("zhili.supervision")

BATCH = 20000  # events a poll takes: a 5 s poll takes all of them at 2,000 a second
BUCKETS_PER_QUERY = 500  # a batched poll's buckets per query (an OR of index ranges)
GAP_WAIT = timedelta(seconds=30)  # settings.ZHILI_ROLLUP_GAP_WAIT (seconds) overrides


# The worker rolls a source up at most this often (settings.ZHILI_ROLLUP_INTERVAL,
# seconds, overrides; the worker's poller runs every second). A refresh costs per
# bucket touched and per poll, not per event, so waiting lets each bucket gather
# its events; the KPIs are per day, and two seconds' lag is not seen
# (docs/performance.md: the poller's share of intake at 1, 2 and 5 s).
INTERVAL = timedelta(seconds=2)


def interval() -> timedelta:
    from django.conf import settings

    seconds = getattr(settings, "ZHILI_ROLLUP_INTERVAL", None)
    return INTERVAL if seconds is None else timedelta(seconds=seconds)


def gap_wait() -> timedelta:
    from django.conf import settings

    seconds = getattr(settings, "ZHILI_ROLLUP_GAP_WAIT", None)
    return GAP_WAIT if seconds is None else timedelta(seconds=seconds)


def ancestor_paths(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _add(source: str, area_path: str, own: bool, day: date, delta: dict[str, int]) -> None:
    """Add `delta` to cells (created at 0 when missing): one statement per call."""
    if not delta:
        return
    table = RollupCell._meta.db_table
    rows = [(source, area_path, own, day.isoformat(), comp, n) for comp, n in delta.items()]
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    sql = (f"INSERT INTO {table} (source, area_path, own, day, component, value) "
           f"VALUES {values} ON CONFLICT (area_path, source, own, day, component) "
           f"DO UPDATE SET value = {table}.value + excluded.value")
    with connection.cursor() as cursor:
        cursor.execute(sql, [v for row in rows for v in row])


def apply_delta(source: str, area_path: str, day: date, delta: dict[str, int]) -> None:
    _add(source, area_path, True, day, delta)
    for path in ancestor_paths(area_path):
        _add(source, path, False, day, delta)


def refresh_bucket(source_name: str, area_path: str, day: date) -> int:
    """Bring one bucket in line with live data; the number of components changed."""
    source = sources()[source_name]
    start, end = day_bounds(day)
    fresh = source.components(area_path=area_path, start=start, end=end).get((area_path, day), {})
    old = dict(RollupCell.objects.filter(source=source_name, area_path=area_path, own=True,
                                         day=day).values_list("component", "value"))
    delta = {k: fresh.get(k, 0) - old.get(k, 0) for k in set(fresh) | set(old)}
    delta = {k: v for k, v in delta.items() if v}
    apply_delta(source_name, area_path, day, delta)
    return len(delta)


def refresh_buckets(source_name: str, buckets) -> int:
    """`refresh_bucket` for many buckets at once (a source with `queries`): per chunk
    of buckets one query per source query for the fresh components, one for the
    stored own cells, one upsert of all the differences and their ancestors'."""
    source = sources()[source_name]
    buckets = sorted(buckets)
    changed = 0
    for i in range(0, len(buckets), BUCKETS_PER_QUERY):
        part = buckets[i:i + BUCKETS_PER_QUERY]
        fresh: dict = {}
        for grouped, group, names in source.queries(
                buckets=[(path, *day_bounds(day)) for path, day in part]):
            for key, cell in area_day_cells(grouped, group, names).items():
                fresh.setdefault(key, Counter()).update(cell)
        stored: dict = {}
        days: dict = {}
        for path, day in part:
            days.setdefault(day, []).append(path)
        which = functools.reduce(operator.or_, (Q(day=d, area_path__in=paths)
                                                for d, paths in days.items()))
        for path, day, comp, n in (RollupCell.objects.filter(which, source=source_name,
                                                             own=True)
                                   .values_list("area_path", "day", "component", "value")):
            stored.setdefault((path, day), {})[comp] = n
        totals: Counter = Counter()
        for path, day in part:
            new, old = fresh.get((path, day), {}), stored.get((path, day), {})
            for comp in set(new) | set(old):
                delta = new.get(comp, 0) - old.get(comp, 0)
                if delta:
                    changed += 1
                    totals[(path, True, day, comp)] += delta
                    for ancestor in ancestor_paths(path):
                        totals[(ancestor, False, day, comp)] += delta
        _add_all(source_name, totals)
    return changed


def _add_all(source: str, totals: Counter) -> None:
    """Add every (area_path, own, day, component) difference: one upsert per 1,000."""
    table = RollupCell._meta.db_table
    rows = sorted((path, own, day.isoformat(), comp, n)
                  for (path, own, day, comp), n in totals.items() if n)
    with connection.cursor() as cursor:
        for i in range(0, len(rows), 1000):
            part = rows[i:i + 1000]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(part))
            cursor.execute(
                f"INSERT INTO {table} (source, area_path, own, day, component, value) "
                f"VALUES {values} ON CONFLICT (area_path, source, own, day, component) "
                f"DO UPDATE SET value = {table}.value + excluded.value",
                [v for row in part for v in (source, *row)])


def _contiguous(cursor: RollupCursor, ids: list[int], now) -> int:
    """How many of `ids` (sorted) to take now, and the cursor's gap state."""
    expected = cursor.last_id + 1
    for i, event_id in enumerate(ids):
        if event_id != expected:
            if cursor.last_id == 0 and i == 0:
                break  # the first run starts wherever the table starts
            wait = gap_wait()
            if wait and (i > 0 or cursor.gap_since is None):
                # A gap not timed yet: after events taken now it is a new one (the
                # timer belongs to the gap right after the cursor, no other).
                cursor.gap_since = now
                return i
            if wait and now - cursor.gap_since < wait:
                return i
            cursor.gap_since = None  # waited long enough: the id will not come
        expected = event_id + 1
    else:
        cursor.gap_since = None
    return len(ids)


def poll_source(source_name: str, limit: int = BATCH, *, every: timedelta | None = None) -> int:
    """Roll up the events after the cursor; the number of events taken. With `every`,
    nothing happens until that long after the last poll that took events (whichever
    worker made it: the time is the cursor's)."""
    source = sources()[source_name]
    zone = city_zone()
    with transaction.atomic():
        RollupCursor.objects.get_or_create(source=source_name)
        cursor = (RollupCursor.objects.select_for_update(skip_locked=True)
                  .filter(source=source_name).first())
        if cursor is None:
            return 0  # another worker has it
        now = timezone.now()
        if every and cursor.last_id and now - cursor.updated_at < every:
            return 0
        changes = source.changes(cursor.last_id, limit)
        if not changes:
            return 0
        take = _contiguous(cursor, [c[0] for c in changes], now)
        changes = changes[:take]
        buckets = {(path, at.astimezone(zone).date()) for _, path, at in changes}
        if source.queries is not None:
            refresh_buckets(source_name, buckets)
        else:
            for path, day in sorted(buckets):
                refresh_bucket(source_name, path, day)
        if changes:
            cursor.last_id = changes[-1][0]
        cursor.updated_at = now
        cursor.save()
        return len(changes)


def poll_all(*, every: timedelta | None = None) -> int:
    return sum(poll_source(name, every=every) for name in sources())


def rebuild(source_names=None, *, within: str | None = None) -> dict[str, int]:
    """Recompute the roll-ups of `source_names` (all) from scratch; cells written.

    A source with `queries` is rebuilt set-based: one INSERT … SELECT per query for
    the own cells, then one per depth of the area tree for the subtree cells (the
    own cells summed by path prefix), on PostgreSQL. Others, and SQLite, go through
    Python (`full_components`).
    `within` (an area path) recomputes only the entities under it and the subtree
    cells of its ancestors: a repair, or a bench on a city too big to roll up whole.
    """
    written = {}
    for name in source_names or list(sources()):
        source = sources()[name]
        with transaction.atomic():
            # Hold the cursor so no poller adds to what is being rebuilt.
            RollupCursor.objects.get_or_create(source=name)
            cursor = RollupCursor.objects.select_for_update().get(source=name)
            high = _last_event_id(source, cursor.last_id)  # before reading: see below
            if source.queries is not None and connection.vendor == "postgresql":
                written[name] = _rebuild_sql(name, within)
            elif within is not None:
                raise ValueError(f"{name}: a rebuild within an area is set-based only")
            else:
                written[name] = _rebuild_python(name)
            # Events after `high` may already be counted; refreshing their buckets
            # again is harmless (a refresh compares with live data).
            cursor.last_id = high
            cursor.gap_since = None
            cursor.updated_at = timezone.now()
            cursor.save()
    return written


def _rebuild_python(name: str) -> int:
    RollupCell.objects.filter(source=name).delete()
    totals = full_components(name)
    cells = [(name, path, own, day.isoformat(), comp, n)
             for (path, own, day), comps in totals.items() for comp, n in comps.items() if n]
    # executemany, not bulk_create: millions of rows, no model objects needed.
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {RollupCell._meta.db_table} "
            "(source, area_path, own, day, component, value) "
            "VALUES (%s, %s, %s, %s, %s, %s)", cells)
    return len(cells)


_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def own_cells_sql(source_name: str, within: str | None = None) -> list[tuple[str, list]]:
    """SELECT statements giving (area_path, day, component, value) of the source's own
    cells (zeros left out), one per query of the source; what `components` gives."""
    out = []
    for grouped, group, names in sources()[source_name].queries(within):
        sql, params = grouped.query.sql_with_params()
        with connection.cursor() as cur:  # the columns' order, as the database has it
            cur.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0", params)
            columns = [d[0] for d in cur.description]
        position = {c: i for i, c in enumerate(columns)}
        grouped_at = [i for i, c in enumerate(columns)
                      if c not in ("area_path", "_day") and not c.startswith("_k_")]
        assert len(grouped_at) == len(group) and all(_NAME.match(n) for n in names), columns
        suffix = "".join(f" || '.' || COALESCE(q.c{i}::text, 'None')" for i in grouped_at)
        values = ", ".join(f"('{n}'{suffix}, q.c{position['_k_' + n]}::bigint)" for n in names)
        aliases = ", ".join(f"c{i}" for i in range(len(columns)))
        out.append((f"SELECT q.c{position['area_path']} AS area_path, "
                    f"q.c{position['_day']} AS day, v.component, v.value "
                    f"FROM ({sql}) AS q({aliases}) CROSS JOIN LATERAL (VALUES {values}) "
                    f"AS v(component, value) WHERE v.value <> 0", list(params)))
    return out


def _rebuild_sql(name: str, within: str | None) -> int:
    table = RollupCell._meta.db_table
    columns = "(source, area_path, own, day, component, value)"
    above = ancestor_paths(within)[:-1] if within else []
    written = 0
    with connection.cursor() as cur:
        if within:
            cur.execute(f"DELETE FROM {table} WHERE source = %s AND (area_path LIKE %s "
                        "OR (NOT own AND area_path = ANY(%s)))",
                        [name, _prefix(within), above])
        else:
            cur.execute(f"DELETE FROM {table} WHERE source = %s", [name])
        for sql, params in own_cells_sql(name, within):
            cur.execute(f"INSERT INTO {table} {columns} SELECT %s, area_path, true, day, "
                        f"component, sum(value) FROM ({sql}) AS o GROUP BY area_path, day, "
                        "component ON CONFLICT (area_path, source, own, day, component) "
                        f"DO UPDATE SET value = {table}.value + excluded.value",
                        [name, *params])
            written += cur.rowcount
        cur.execute(f"SELECT max(length(area_path) - length(replace(area_path, '/', ''))) "
                    f"FROM {table} WHERE source = %s AND own", [name])
        depth = cur.fetchone()[0] or 0
        for n in range(1, depth + 1):
            # Depth n's subtree cells: own cells at depth >= n summed by their first n
            # parts; with `within`, only the one ancestor (or the paths under `within`).
            scope = above[n - 1] if n <= len(above) else within
            cur.execute(f"INSERT INTO {table} {columns} SELECT source, "
                        "substring(area_path from %s), false, day, component, sum(value) "
                        f"FROM {table} WHERE source = %s AND own AND area_path ~ %s "
                        "AND area_path LIKE %s GROUP BY 1, 2, 4, 5",
                        [f"^((?:[^/]+/){{{n}}})", name, f"^([^/]+/){{{n}}}",
                         _prefix(scope or "")])
            written += cur.rowcount
    return written


def _prefix(path: str) -> str:
    """A LIKE pattern matching the paths that start with `path`."""
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _last_event_id(source, after: int) -> int:
    """The highest event id the source has now (paging through `changes`)."""
    high = after
    while True:
        page = source.changes(high, 50000)
        if not page:
            return high
        high = page[-1][0]


def full_components(source_name: str) -> dict[tuple[str, bool, date], Counter]:
    """{(area path, own, day): components} of a source from live data, every area."""
    source = sources()[source_name]
    totals: dict[tuple[str, bool, date], Counter] = {}
    for (path, day), comps in source.components().items():
        totals.setdefault((path, True, day), Counter()).update(comps)
        for ancestor in ancestor_paths(path):
            totals.setdefault((ancestor, False, day), Counter()).update(comps)
    return totals


def stored_components(source_name: str) -> dict[tuple[str, bool, date], Counter]:
    """The same from the roll-up tables (zeros left out), to compare with `full_components`."""
    out: dict[tuple[str, bool, date], Counter] = {}
    for path, own, day, comp, n in (RollupCell.objects.filter(source=source_name)
                                    .exclude(value=0)
                                    .values_list("area_path", "own", "day", "component",
                                                 "value")):
        out.setdefault((path, own, day), Counter())[comp] = n
    return out
