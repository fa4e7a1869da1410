import pytest
from django.core.cache import cache

from zhili.geo import index


@pytest.fixture(autouse=True)
def fresh_geo_caches(monkeypatch):
    """Each test sees its own boundary version: re-read it on every lookup, drop cached GeoJSON.

    (Tests roll back, so the version can go back down; the 1-second check
    interval of production would then serve the previous test's index.)
    """
    monkeypatch.setattr(index, "CHECK_INTERVAL", 0.0)
    index.mark_stale()
    cache.clear()
    yield
    index.mark_stale()
