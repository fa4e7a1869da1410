"""The registry's lists (API and pages) cost the same queries for more rows (no N+1).

Persons and organisations are registered through the services in different
grids, under a name prefix the list is filtered on.
"""

from __future__ import annotations

import pytest

from zhili.core.tests.queries import assert_flat, items, marked

PREFIX = "扁平"


@pytest.fixture
def grow(make_person, make_organisation, grid, community):
    def add(n: int = 3):
        for i in range(n):
            make_person(grid, name=f"{PREFIX}测试{i}")
            make_organisation((grid, community)[i % 2], name=f"{PREFIX}测试有限公司{i}")

    return add


@pytest.mark.parametrize("path", ["/registry/persons", "/registry/organisations"])
def test_api_lists(api, bearer, district_operator, grow, path,
                   django_assert_max_num_queries, django_assert_num_queries):
    grow(2)
    headers = bearer(district_operator)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: api.get(path, headers=headers, q=PREFIX, page_size=200),
                grow=grow, rows=items, most=4)


@pytest.mark.parametrize("path", ["/registry/persons/", "/registry/organisations/"])
def test_list_pages(client, district_operator, grow, path,
                    django_assert_max_num_queries, django_assert_num_queries):
    grow(2)
    client.force_login(district_operator)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get(path, {"q": PREFIX}), grow=grow, rows=marked("<tr"),
                most=8)
