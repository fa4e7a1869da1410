"""Users and tokens lists cost the same queries for more rows (no N+1)."""

from __future__ import annotations

import itertools

from zhili.accounts.roles import Role
from zhili.accounts.services import role_assign, token_create, user_create
from zhili.core.tests.queries import assert_flat, items

_serial = itertools.count(1)


def test_users(api, bearer, city_admin, grid, street,
               django_assert_max_num_queries, django_assert_num_queries):
    def grow(n: int = 3):
        for _i in range(n):
            user = user_create(username=f"flat{next(_serial)}", password=None)
            role_assign(user=user, role=Role.GRID_WORKER, area=grid)
            role_assign(user=user, role=Role.COMMUNITY_STAFF, area=street)

    grow(2)
    headers = bearer(city_admin)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: api.get("/accounts/users", headers=headers, q="flat",
                                      page_size=200),
                grow=grow, rows=items, most=7)


def test_tokens(api, bearer, grid_worker,
                django_assert_max_num_queries, django_assert_num_queries):
    def grow(n: int = 3):
        for _i in range(n):
            token_create(user=grid_worker, name=f"flat {next(_serial)}", days=1)

    headers = bearer(grid_worker)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: api.get("/accounts/tokens", headers=headers),
                grow=grow, rows=items, most=3)
