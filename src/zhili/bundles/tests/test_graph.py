"""Property tests of the bundle graph: cycles, ready sets, critical path, failure propagation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhili.bundles import graph


@st.composite
def dags(draw, max_nodes: int = 12):
    """A random DAG: edges only point to nodes with a smaller index, so no cycle is possible."""
    n = draw(st.integers(min_value=1, max_value=max_nodes))
    nodes = [f"m{i:02d}" for i in range(n)]
    deps = {}
    for i, node in enumerate(nodes):
        deps[node] = set(draw(st.lists(st.sampled_from(nodes[:i]), max_size=i, unique=True))) if i else set()
    weights = {node: draw(st.integers(min_value=0, max_value=30)) for node in nodes}
    return deps, weights


def _ancestors(deps, node):
    seen, stack = set(), list(deps[node])
    while stack:
        d = stack.pop()
        if d not in seen:
            seen.add(d)
            stack.extend(deps[d])
    return seen


@given(dags())
def test_a_dag_has_no_cycle_and_a_valid_order(case):
    deps, _ = case
    assert graph.find_cycle(deps) is None
    order = graph.topological(deps)
    position = {n: i for i, n in enumerate(order)}
    assert sorted(order) == sorted(deps)
    assert all(position[d] < position[n] for n, ds in deps.items() for d in ds)


@given(dags(), st.data())
def test_a_back_edge_makes_a_cycle_that_is_found(case, data):
    deps, _ = case
    candidates = [(n, a) for n in deps for a in _ancestors(deps, n)]
    if not candidates:
        return
    node, ancestor = data.draw(st.sampled_from(candidates))
    deps[ancestor] = deps[ancestor] | {node}  # ancestor now needs its own dependant
    cycle = graph.find_cycle(deps)
    assert cycle is not None and cycle[0] == cycle[-1]
    assert all(b in deps[a] for a, b in zip(cycle, cycle[1:], strict=False))
    with pytest.raises(ValueError):
        graph.topological(deps)


@given(dags())
def test_releasing_ready_sets_finishes_every_matter_in_dependency_order(case):
    deps, _ = case
    done: list[str] = []
    rounds = 0
    while len(done) < len(deps):
        ready = graph.ready_set(deps, done)
        assert ready, "a DAG never gets stuck"
        for n in ready:
            assert deps[n] <= set(done)
        # Idempotent: asking again with nothing new gives the same set.
        assert graph.ready_set(deps, done) == ready
        done.extend(sorted(ready))
        rounds += 1
    assert rounds <= len(deps)
    assert graph.ready_set(deps, done) == set()


def _longest(deps, weights):
    memo = {}

    def finish(n):
        if n not in memo:
            memo[n] = weights[n] + max((finish(d) for d in deps[n]), default=0)
        return memo[n]

    return max(finish(n) for n in deps)


@given(dags())
def test_critical_path_is_the_longest_chain(case):
    deps, weights = case
    days, path = graph.critical_path(deps, weights)
    assert days == _longest(deps, weights)
    assert sum(weights[n] for n in path) == days
    assert all(a in deps[b] for a, b in zip(path, path[1:], strict=False))
    assert max(weights.values()) <= days <= sum(weights.values())


@given(dags(), st.data())
def test_a_failure_blocks_exactly_its_descendants(case, data):
    deps, _ = case
    failed = set(data.draw(st.lists(st.sampled_from(sorted(deps)), max_size=3, unique=True)))
    blocked = graph.blocked_by_failure(deps, failed)
    expected = {n for n in deps if n not in failed and _ancestors(deps, n) & failed}
    assert blocked == expected


@settings(max_examples=50)
@given(dags())
def test_restricting_to_a_subset_drops_outside_dependencies(case):
    deps, _ = case
    keep = sorted(deps)[::2]
    sub = graph.restrict(deps, keep)
    assert set(sub) == set(keep)
    assert all(ds <= set(keep) for ds in sub.values())


def test_newborn_order_in_the_catalogue(db):
    from zhili.bundles.plan import plan_load

    plan = plan_load("newborn")
    order = graph.topological(plan.deps)
    assert order.index("birth-medical-certificate") < order.index("household-birth-registration")
    assert order.index("household-birth-registration") < order.index("resident-medical-insurance-enrolment")
    assert order.index("household-birth-registration") < order.index("social-security-card-application")
    assert graph.ready_set(plan.deps, []) == {"birth-medical-certificate"}
