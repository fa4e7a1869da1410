"""Every map endpoint of the cockpit costs the same queries for more rows (no N+1)."""

from __future__ import annotations

import pytest

from zhili.core.tests.queries import assert_flat

pytestmark = pytest.mark.django_db


def features(response) -> int:
    return len(response.json()["features"])


def test_the_live_case_layer_is_flat(client, report, grid, street_operator,
                                     django_assert_max_num_queries, django_assert_num_queries):
    report(on=grid)
    client.force_login(street_operator)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get("/cockpit/layers/cases.geojson"),
                grow=lambda: [report(on=grid) for _ in range(3)], rows=features, most=8)


def test_the_worker_layer_is_flat(client, at_work, grid, grid_worker, street_operator,
                                  django_assert_max_num_queries, django_assert_num_queries):
    from zhili.accounts.models import RoleAssignment, User
    from zhili.accounts.roles import Role

    at_work(grid_worker, grid)

    def grow():
        for i in range(3):
            user = User.objects.create_user(username=f"walker{i}", password="x" * 20)
            RoleAssignment.objects.create(user=user, role=Role.GRID_WORKER, area=grid,
                                          area_path=grid.path)
            at_work(user, grid, dx=0.0001 * i)

    client.force_login(street_operator)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get("/cockpit/layers/workers.geojson"), grow=grow,
                rows=features, most=9)


def test_the_events_poll_is_flat(client, report, grid, street_operator,
                                 django_assert_max_num_queries, django_assert_num_queries):
    from zhili.cockpit.live import last_seq

    after = last_seq()
    report(on=grid)
    client.force_login(street_operator)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get(f"/cockpit/events?after={after}"),
                grow=lambda: [report(on=grid) for _ in range(3)],
                rows=lambda r: len(r.json()["events"]), most=7)


def test_the_figures_and_the_page_are_pinned(client, report, grid, street_operator,
                                             django_assert_max_num_queries):
    client.force_login(street_operator)
    client.get("/cockpit/figures.json")
    with django_assert_max_num_queries(11):
        assert client.get("/cockpit/figures.json").status_code == 200
    report(on=grid)
    with django_assert_max_num_queries(11):
        assert client.get("/cockpit/figures.json").status_code == 200
    client.get("/cockpit/")
    with django_assert_max_num_queries(10):
        assert client.get("/cockpit/").status_code == 200


def test_the_stream_reads_the_database_once_before_it_starts(report, grid, street_operator,
                                                             django_assert_num_queries):
    """The stream's only queries are its start (scope, oldest id, the replay), the same for
    a longer replay; afterwards each live event costs it none (the hub hands it bytes:
    test_hub.py runs without a database)."""
    from zhili.cockpit import views
    from zhili.cockpit.live import last_seq

    after = last_seq()
    report(on=grid)
    user = type(street_operator).objects.get(pk=street_operator.pk)
    views._prepare(user, after)  # warm: the role assignments are cached on the user
    with django_assert_num_queries(2) as first:
        scope, backlog, reset = views._prepare(user, after)
    assert backlog and not reset and not scope.empty
    for _ in range(3):
        report(on=grid)
    with django_assert_num_queries(len(first)):
        _, longer, _ = views._prepare(user, after)
    assert len(longer) == len(backlog) + 3
