"""Every governance list and map endpoint costs the same queries for more rows (no N+1).

Rows are added through the services: cases of different categories, reporters
and assignees, dispatched to departments, and disputes with their parties.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from zhili.core.tests.queries import assert_flat, items, marked
from zhili.governance import services
from zhili.governance.tests.test_api import BASE, dispute_body
from zhili.governance.tests.test_pages import G, as_user

CATEGORIES = ("road-damage", "garbage", "noise", "manhole-cover")


@pytest.fixture
def auth(bearer):
    cache = {}

    def headers(user):
        if user.pk not in cache:
            cache[user.pk] = bearer(user)
        return cache[user.pk]

    return headers


@pytest.fixture
def cases(report, street_operator, resident, grid_worker):
    """cases(n, overdue=False): n more cases on the grid, each dispatched to the power office."""
    made = []

    def grow(n: int = 3, *, overdue: bool = False):
        for i in range(n):
            # 10 days apart: beyond the duplicate window, so each is a case of its own.
            at = timezone.now() - timedelta(days=30 + 10 * len(made)) if overdue else None
            case = report(category=CATEGORIES[len(made) % len(CATEGORIES)], at=at,
                          actor=(resident, grid_worker)[i % 2])
            if not overdue:  # dispatching starts the departments' clock afresh
                services.case_dispatch_departments(actor=street_operator, case=case,
                                                   version=case.version, lead="power")
            made.append(case)
        return made

    return grow


def _flat(django_assert_max_num_queries, django_assert_num_queries, **kw):
    return assert_flat(django_assert_max_num_queries, django_assert_num_queries, **kw)


# -- API -------------------------------------------------------------------------------------

@pytest.mark.parametrize("who,path,most", [
    ("street_operator", "/cases", 6),
    ("street_operator", "/cases/overdue", 6),
    ("grid_worker", "/my-tasks", 6),
    ("department_officer", "/inbox", 6),
])
def test_api_case_lists(api, auth, cases, request, who, path, most, now,
                        django_assert_max_num_queries, django_assert_num_queries):
    user = request.getfixturevalue(who)
    overdue = path == "/cases/overdue"
    cases(2, overdue=overdue)
    params = {"page_size": 500}
    if path == "/cases":
        params["created_from"] = now.isoformat()
    _flat(django_assert_max_num_queries, django_assert_num_queries,
          fetch=lambda: api.get(f"{BASE}{path}", headers=auth(user), **params),
          grow=lambda: cases(3, overdue=overdue), rows=items, most=most)


def test_api_dispute_list(api, auth, categories, grid, grid_worker,
                          django_assert_max_num_queries, django_assert_num_queries):
    body = dispute_body(grid_worker, grid)

    def grow(n=3):
        for i in range(n):
            services.dispute_record(actor=grid_worker, category=body["category"],
                                    description=f"纠纷 {i}", lon=body["lon"], lat=body["lat"],
                                    parties=body["parties"])

    grow(2)
    _flat(django_assert_max_num_queries, django_assert_num_queries,
          fetch=lambda: api.get(f"{BASE}/disputes", headers=auth(grid_worker), page_size=500),
          grow=grow, rows=items, most=6)


def test_open311_requests(client, cases, now,
                          django_assert_max_num_queries, django_assert_num_queries):
    cases(2)
    window = {"start_date": now.isoformat(), "end_date": (now + timedelta(days=89)).isoformat()}
    _flat(django_assert_max_num_queries, django_assert_num_queries,
          fetch=lambda: client.get("/open311/v2/requests.json", window),
          grow=cases, rows=lambda r: len(r.json()), most=4)


# -- pages -----------------------------------------------------------------------------------

@pytest.mark.parametrize("who,path,marker,most", [
    ("street_operator", "/queue/?area={grid}", "data-tracking=", 9),
    ("street_operator", "/overdue/", "data-tracking=", 7),
    ("grid_worker", "/tasks/", "data-tracking=", 6),
    ("department_officer", "/inbox/", "data-task=", 6),
    ("resident", "/my/", "data-tracking=", 6),
])
def test_case_list_pages(client, cases, grid, request, who, path, marker, most,
                         django_assert_max_num_queries, django_assert_num_queries):
    overdue = path == "/overdue/"
    cases(2, overdue=overdue)
    client = as_user(client, request.getfixturevalue(who))
    url = G + path.format(grid=grid.code)
    _flat(django_assert_max_num_queries, django_assert_num_queries,
          fetch=lambda: client.get(url), grow=lambda: cases(3, overdue=overdue),
          rows=marked(marker), most=most)


def test_dispute_list_page(client, categories, grid, grid_worker,
                           django_assert_max_num_queries, django_assert_num_queries):
    body = dispute_body(grid_worker, grid)

    def grow(n=3):
        for i in range(n):
            services.dispute_record(actor=grid_worker, category=body["category"],
                                    description=f"纠纷 {i}", lon=body["lon"], lat=body["lat"],
                                    parties=body["parties"])

    grow(2)
    client = as_user(client, grid_worker)
    _flat(django_assert_max_num_queries, django_assert_num_queries,
          fetch=lambda: client.get(f"{G}/disputes/"), grow=grow,
          rows=marked("data-dispute="), most=8)
