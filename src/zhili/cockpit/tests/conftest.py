"""Cockpit test helpers: cases reported through the real service at distinct spots of a
grid, and worker positions posted through the real service."""

from __future__ import annotations

import itertools

import pytest

CATEGORIES = ("streetlight-out", "illegal-parking", "greenery-damage", "drain-blocked")
_spots = itertools.count(1)


def spot(grid) -> tuple[float, float]:
    """A fresh point inside the grid, far enough from the last ones (no duplicates)."""
    import shapely

    shape = grid.shape
    x0, y0, x1, y1 = shape.bounds
    while True:
        n = next(_spots) % 400
        x, y = x0 + (x1 - x0) * (1 + n % 20) / 21, y0 + (y1 - y0) * (1 + n // 20) / 21
        if shapely.contains_xy(shape, x, y):
            return x, y


@pytest.fixture
def report(db, grid, resident):
    """report(grid=…, actor=…) -> a case reported through governance's service."""
    from zhili.governance.services import case_report

    def make(*, on=None, actor=None, category=None):
        where = on or grid
        lon, lat = spot(where)
        n = next(_spots)
        case, _ = case_report(actor=actor or resident, category=category or CATEGORIES[n % 4],
                              description=f"cockpit test case {n}", lon=lon, lat=lat)
        return case

    return make


@pytest.fixture
def at_work(db):
    """at_work(worker, grid) -> the worker's fresh position near the grid's centre."""
    from zhili.cockpit.services import position_report

    def post(worker, grid, dx=0.0):
        c = grid.shape.representative_point()
        return position_report(actor=worker, lon=c.x + dx, lat=c.y)

    return post


def run_async(make_coro):
    """asyncio.run(make_coro()) on a thread of its own: after a browser test, Playwright's
    sync API keeps an event loop running in the test thread, where asyncio.run refuses."""
    import threading

    outcome = {}

    def target():
        import asyncio

        try:
            outcome["value"] = asyncio.run(make_coro())
        except BaseException as exc:  # handed to the test thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# The team-dispatch tests' (test_teams.py, test_team_notice.py, test_browser_teams.py).
@pytest.fixture
def only_our_teams(db):
    """The seeded city's resources off duty, so the tests' own teams are the only free ones."""
    from zhili.emergency.models import RescueResource

    RescueResource.objects.update(availability="off_duty")


@pytest.fixture
def warning(db, grid):
    from zhili.warning.catalogue import catalogue_seed
    from zhili.warning.services import risk_point_create, warning_raise

    catalogue_seed()
    point = risk_point_create(actor=None, code="RP-TEAM-1", name="测试内涝点",
                              category="landslide", lon=grid.centre_lon, lat=grid.centre_lat)
    return warning_raise(risk_point=point, level=4, source="manual", condition="test:team")


@pytest.fixture
def commander(db):
    from zhili.conftest import _user

    return _user("commander")
