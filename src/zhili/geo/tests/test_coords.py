import math

import numpy as np
from fast_geocn import coord as reference
from hypothesis import given
from hypothesis import strategies as st

from zhili.geo import coords

# Inside the China box with a margin larger than the GCJ-02 offset (< 0.01°).
china_lon = st.floats(min_value=72.1, max_value=136.9)
china_lat = st.floats(min_value=0.1, max_value=54.9)
CM = 1e-7  # degrees, about 1 cm


@given(china_lon, china_lat)
def test_round_trip_wgs_gcj_wgs_inside_china(lon, lat):
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    back = coords.gcj02_to_wgs84(glon, glat)
    assert abs(back[0] - lon) < CM and abs(back[1] - lat) < CM


@given(china_lon, china_lat)
def test_round_trip_gcj_wgs_gcj_inside_china(lon, lat):
    wlon, wlat = coords.gcj02_to_wgs84(lon, lat)
    again = coords.wgs84_to_gcj02(wlon, wlat)
    assert abs(again[0] - lon) < CM and abs(again[1] - lat) < CM


outside = st.one_of(
    st.tuples(st.floats(-180, 71.9), st.floats(-90, 90)),
    st.tuples(st.floats(137.1, 180), st.floats(-90, 90)),
    st.tuples(st.floats(-180, 180), st.floats(-90, -0.1)),
    st.tuples(st.floats(-180, 180), st.floats(55.1, 90)),
)


@given(outside)
def test_identity_outside_china(point):
    lon, lat = point
    assert coords.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert coords.gcj02_to_wgs84(lon, lat) == (lon, lat)


@given(china_lon, china_lat)
def test_forward_is_the_standard_formula(lon, lat):
    mine, theirs = coords.wgs84_to_gcj02(lon, lat), reference.wgs84_to_gcj02(lon, lat)
    assert math.isclose(mine[0], theirs[0], abs_tol=1e-12)
    assert math.isclose(mine[1], theirs[1], abs_tol=1e-12)


def test_arrays_and_a_known_point():
    lon = np.array([106.574, 0.0, 116.391])
    lat = np.array([29.557, 0.0, 39.907])
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    assert glon[1] == 0.0 and glat[1] == 0.0  # outside China: unchanged
    # Chongqing's offset is a few hundred metres east-south-east.
    assert 0.003 < glon[0] - lon[0] < 0.005 and -0.004 < glat[0] - lat[0] < -0.002
    wlon, wlat = coords.gcj02_to_wgs84(glon, glat)
    assert np.abs(wlon - lon).max() < CM and np.abs(wlat - lat).max() < CM


def test_to_wgs84_dispatches_on_crs():
    assert coords.to_wgs84(106.5, 29.5, "wgs84") == (106.5, 29.5)
    assert coords.to_wgs84(106.5, 29.5, "gcj02") != (106.5, 29.5)
