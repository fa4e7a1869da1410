"""Bundles' lists (API and pages) cost the same queries for more applications (no N+1).

Applications are submitted through the service, as the applicant would.
"""

from __future__ import annotations

import pytest

from zhili.bundles import services
from zhili.core.tests.queries import assert_flat, items, marked


@pytest.fixture
def grow(applicant, filled):
    def submit(n: int = 3):
        for _i in range(n):
            services.application_submit(actor=applicant, **filled(applicant, "newborn"))

    return submit


@pytest.mark.parametrize("who,path,most", [
    ("applicant", "/bundles/applications", 5),
    ("health", "/bundles/inbox", 5),
])
def test_api_lists(api, bearer, applicant, officers, grow, who, path, most,
                   django_assert_max_num_queries, django_assert_num_queries):
    user = applicant if who == "applicant" else officers[who]
    grow(2)
    headers = bearer(user)
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: api.get(path, headers=headers, page_size=200),
                grow=grow, rows=items, most=most)


@pytest.mark.parametrize("who,path,marker,most", [
    ("applicant", "/bundles/applications/", 'href="/bundles/applications/', 8),
    ("health", "/bundles/inbox/", "data-task=", 9),
])
def test_list_pages(client, applicant, officers, grow, who, path, marker, most,
                    django_assert_max_num_queries, django_assert_num_queries):
    grow(2)
    client.force_login(applicant if who == "applicant" else officers[who])
    assert_flat(django_assert_max_num_queries, django_assert_num_queries,
                fetch=lambda: client.get(path), grow=grow, rows=marked(marker), most=most)
