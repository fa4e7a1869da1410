"""My notifications list costs the same queries for more notifications (no N+1)."""

from __future__ import annotations

import itertools

from zhili.core.tests.queries import assert_flat, items
from zhili.notifications import services

_serial = itertools.count(1)


def test_my_notifications(api, bearer, resident, grid,
                          django_assert_max_num_queries, django_assert_num_queries):
    def grow(n: int = 3):
        for _i in range(n):
            k = next(_serial)
            services.notify(recipients=[resident], kind="test.flat", title=f"flat {k}",
                            link=f"/governance/my/{k}/", obj=grid, dedupe=f"test:flat:{k}")

    grow(2)
    headers = bearer(resident)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: api.get("/notifications", headers=headers, page_size=200),
                grow=grow, rows=items, most=6)
