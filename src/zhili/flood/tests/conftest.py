"""A small generated network on the demo street, a waterlogging risk point beside one
of its junctions, and rainfall series light and heavy."""

from datetime import timedelta

import pytest
from django.utils import timezone

SPAN = 0.004  # degrees: a network about 800 m across


@pytest.fixture
def small_inp(grid):
    from zhili.flood.network import generate_inp

    lon, lat = grid.centre_lon, grid.centre_lat
    return generate_inp(bbox=(lon - SPAN, lat - SPAN, lon + SPAN, lat + SPAN), junctions=6,
                        seed=3, title="test network")


@pytest.fixture
def flood_model(small_inp, street):
    from zhili.flood.services import drainage_model_add

    return drainage_model_add(actor=None, area=street, name="测试管网", inp_text=small_inp,
                              source_name="test.inp", synthetic=True)


@pytest.fixture
def underpass(flood_model):
    """An urban-waterlogging risk point at the model's first located junction."""
    from zhili.governance.catalogue import category_seed
    from zhili.warning.catalogue import catalogue_seed
    from zhili.warning.services import risk_point_create

    category_seed()
    catalogue_seed()
    node = flood_model.nodes.filter(kind="junction", grid__isnull=False).order_by("name").first()
    return risk_point_create(actor=None, code="RP-FLOOD-1", name="测试下穿道",
                             category="urban-waterlogging", lon=node.lon, lat=node.lat)


def series_csv(mm_h: float, *, hours: float = 2, start=None, step_min: int = 10) -> str:
    start = start or timezone.localtime(timezone.now()).replace(second=0, microsecond=0) \
        + timedelta(hours=1)
    rows = ["time,mm/h"]
    for k in range(int(hours * 60 / step_min)):
        rows.append(f"{(start + timedelta(minutes=k * step_min)):%Y-%m-%d %H:%M},{mm_h}")
    return "\n".join(rows) + "\n"


@pytest.fixture
def heavy():
    return series_csv(90)


@pytest.fixture
def light():
    return series_csv(4)
