"""The audit log's list (API and page) costs the same queries for more entries (no N+1)."""

from __future__ import annotations

import pytest

from zhili.audit.services import audit_record
from zhili.core.tests.queries import assert_flat, items, marked


@pytest.fixture
def grow(db, grid_worker, street_operator, district, street):
    """Entries by different actors in different areas, through the audit service."""
    def add(n: int = 3):
        for i in range(n):
            actor, node = ((grid_worker, street), (street_operator, district))[i % 2]
            audit_record(actor=actor, action="flat.check", object_type="test.thing",
                         object_id=i, area_path=node.path, detail={"i": i})

    return add


def test_api_entries(api, bearer, city_admin, grow,
                     django_assert_max_num_queries, django_assert_num_queries):
    grow(2)
    headers = bearer(city_admin)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: api.get("/audit/entries", headers=headers, action="flat.",
                                      page_size=200),
                grow=grow, rows=items, most=6)


def test_entries_page(client, city_admin, grow,
                      django_assert_max_num_queries, django_assert_num_queries):
    grow(2)
    client.force_login(city_admin)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get("/audit/", {"action": "flat."}),
                grow=grow, rows=marked("data-entry="), most=9)
