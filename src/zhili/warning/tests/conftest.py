from datetime import timedelta

import pytest
from django.utils import timezone


@pytest.fixture
def catalogue(db):
    from zhili.governance.catalogue import category_seed
    from zhili.warning.catalogue import catalogue_seed
    from zhili.warning.ingest import sensors_cache_clear
    from zhili.warning.rules import rules_cache_clear

    category_seed()
    catalogue_seed()
    rules_cache_clear()
    sensors_cache_clear()
    yield
    rules_cache_clear()
    sensors_cache_clear()


@pytest.fixture
def slope(catalogue, grid):
    """A landslide risk point in the demo grid, with a displacement sensor and a rain gauge."""
    from zhili.warning.services import risk_point_create, sensor_register

    point = risk_point_create(actor=None, code="RP-TEST-1", name="测试滑坡点", category="landslide",
                              lon=grid.centre_lon, lat=grid.centre_lat, risk_level=3)
    displacement, key = sensor_register(actor=None, risk_point=point, code="S-DISP-1",
                                        sensor_type="displacement")
    gauge, _ = sensor_register(actor=None, risk_point=point, code="S-RAIN-1",
                               sensor_type="rainfall_1h")
    point.keys = {"S-DISP-1": key}
    return point


@pytest.fixture
def t0():
    return timezone.now().replace(microsecond=0) - timedelta(hours=2)
