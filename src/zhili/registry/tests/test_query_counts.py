"""The registry's lists (API and pages) cost the same queries for more rows (no N+1).

Persons and organisations are registered through the services in different
grids; organisations under a name prefix the list is filtered on, persons
under one household number (a person's name is a look-up, not a filter).
"""

from __future__ import annotations

import pytest

from zhili.core.tests.queries import assert_flat, items, marked

PREFIX = "扁平"
HOUSEHOLD = "FLAT-0001"


@pytest.fixture
def grow(make_person, make_organisation, grid, community):
    def add(n: int = 3):
        for i in range(n):
            make_person(grid, name=f"{PREFIX}测试{i}", household_no=HOUSEHOLD)
            make_organisation((grid, community)[i % 2], name=f"{PREFIX}测试有限公司{i}")

    return add


@pytest.mark.parametrize("path", ["/registry/persons", "/registry/organisations"])
def test_api_lists(api, bearer, district_operator, grow, path,
                   django_assert_max_num_queries, django_assert_num_queries):
    grow(2)
    headers = bearer(district_operator)
    where = {"household_no": HOUSEHOLD} if "persons" in path else {"q": PREFIX}
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: api.get(path, headers=headers, page_size=200, **where),
                grow=grow, rows=items, most=4)


@pytest.mark.parametrize("path", ["/registry/persons/", "/registry/organisations/"])
def test_list_pages(client, district_operator, grow, path,
                    django_assert_max_num_queries, django_assert_num_queries):
    grow(2)
    client.force_login(district_operator)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get(path, {"household_no": HOUSEHOLD} if "persons" in path
                                         else {"q": PREFIX}),
                grow=grow, rows=marked("<tr"),
                most=8)
