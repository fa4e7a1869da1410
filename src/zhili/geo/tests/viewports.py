"""Helpers for the tests of map layers that take a viewport (geo/viewport.py)."""

from __future__ import annotations

from django.db.models import Max, Min


def box(rows, margin: float) -> str:
    """The `bbox` around a queryset's lon/lat, widened by `margin` degrees."""
    e = rows.aggregate(Min("lon"), Max("lon"), Min("lat"), Max("lat"))
    return ",".join(f"{v:.5f}" for v in (e["lon__min"] - margin, e["lat__min"] - margin,
                                           e["lon__max"] + margin, e["lat__max"] + margin))


def layer_get(client, url: str, bbox: str, zoom) -> dict:
    """The layer's answer for that box and zoom, which must be a 200."""
    response = client.get(url, {"bbox": bbox, "zoom": zoom})
    assert response.status_code == 200, response.content[:300]
    return response.json()


def represented(features) -> int:
    """The rows an answer stands for: a cluster's count, or one."""
    return sum(f["properties"]["count"] if f["properties"].get("cluster") else 1 for f in features)
