"""The bundle's dependency graph, as pure functions over `{node: set(of nodes it needs)}`.

No database here: the catalogue, the importer, the release of tasks and the
metrics all call these, and the property tests exercise them directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def restrict(deps: Mapping[str, Iterable[str]], nodes: Iterable[str]) -> dict[str, set[str]]:
    """The subgraph induced by `nodes`: a dependency outside it is no longer waited for."""
    keep = set(nodes)
    return {n: {d for d in deps.get(n, ()) if d in keep} for n in keep}


def find_cycle(deps: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One cycle as [a, b, …, a], or None when the graph is acyclic (iterative DFS)."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(deps, white)
    for n in list(deps):
        for d in deps[n]:
            colour.setdefault(d, white)
    for start in sorted(colour):
        if colour[start] != white:
            continue
        stack = [(start, iter(sorted(deps.get(start, ()))))]
        path = [start]
        colour[start] = grey
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = black
                stack.pop()
                path.pop()
            elif colour[child] == grey:
                return path[path.index(child):] + [child]
            elif colour[child] == white:
                colour[child] = grey
                path.append(child)
                stack.append((child, iter(sorted(deps.get(child, ())))))
    return None


def topological(deps: Mapping[str, Iterable[str]]) -> list[str]:
    """Nodes with every dependency before its dependants (ties by name); ValueError on a cycle."""
    nodes = set(deps) | {d for ds in deps.values() for d in ds}
    waiting = {n: set(deps.get(n, ())) for n in nodes}
    order: list[str] = []
    ready = sorted(n for n, ds in waiting.items() if not ds)
    while ready:
        node = ready.pop(0)
        order.append(node)
        for other in sorted(nodes):
            if node in waiting[other]:
                waiting[other].discard(node)
                if not waiting[other] and other not in order and other not in ready:
                    ready.append(other)
        ready.sort()
    if len(order) != len(nodes):
        raise ValueError(f"cycle: {find_cycle(deps)}")
    return order


def ready_set(deps: Mapping[str, Iterable[str]], done: Iterable[str],
              started: Iterable[str] = ()) -> set[str]:
    """Nodes not yet started whose dependencies are all done."""
    done, started = set(done), set(started)
    return {n for n, ds in deps.items()
            if n not in done and n not in started and set(ds) <= done}


def blocked_by_failure(deps: Mapping[str, Iterable[str]], failed: Iterable[str]) -> set[str]:
    """Nodes that can never start because something they (transitively) need failed."""
    failed = set(failed)
    out: set[str] = set()
    changed = True
    while changed:
        changed = False
        for n, ds in deps.items():
            if n not in out and n not in failed and set(ds) & (failed | out):
                out.add(n)
                changed = True
    return out


def critical_path(deps: Mapping[str, Iterable[str]],
                  weight: Mapping[str, float]) -> tuple[float, list[str]]:
    """The longest weighted chain (the time if every department works in parallel)."""
    if not deps:
        return 0, []
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    for node in topological(deps):
        before = [(finish[d], d) for d in deps.get(node, ())]
        start, prev = max(before, default=(0, None))
        finish[node] = start + weight.get(node, 0)
        via[node] = prev
    end = max(finish, key=lambda n: (finish[n], n))
    path = [end]
    while via[path[-1]] is not None:
        path.append(via[path[-1]])
    return finish[end], path[::-1]
