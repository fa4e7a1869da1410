from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import Field

from zhili.core.schemas import Number
from zhili.geo.models import Level, full_code

Crs = Literal["wgs84", "gcj02"]
MAX_BATCH = 10_000
CODE_PATTERN = r"^\d{2,15}$"

LON = {"ge": -180, "le": 180, "allow_inf_nan": False}
LAT = {"ge": -90, "le": 90, "allow_inf_nan": False}


class LocateQuery(Schema):
    lon: Number = Field(..., **LON, description="Longitude in degrees")
    lat: Number = Field(..., **LAT, description="Latitude in degrees")
    crs: Crs = Field("wgs84", description="`gcj02` for coordinates from Chinese phone map APIs")


class PointIn(Schema):
    lon: Number = Field(..., **LON)
    lat: Number = Field(..., **LAT)


class LocateBatchIn(Schema):
    crs: Crs = "wgs84"
    points: list[PointIn] = Field(..., max_length=MAX_BATCH,
                                  description=f"At most {MAX_BATCH:,} points")


class PlaceOut(Schema):
    code: str
    name: str
    name_en: str


class PointOut(Schema):
    lon: float
    lat: float


class LocateOut(Schema):
    point: PointOut = Field(description="The point in WGS84")
    grid: PlaceOut
    community: PlaceOut | None
    street: PlaceOut | None
    district: PlaceOut | None


class LocateBatchOut(Schema):
    found: int
    results: list[LocateOut | None] = Field(description="One per point, in order; null outside the city")


class NodeFilters(Schema):
    level: Level | None = None
    parent: str | None = Field(None, pattern=CODE_PATTERN, description="Code of the parent node")
    q: str | None = Field(None, max_length=64, description="Part of the name, or a code prefix")


class NodeRef(Schema):
    code: str
    name: str
    name_en: str
    level: Level


class NodeOut(NodeRef):
    parent_code: str | None
    synthetic: bool = Field(description="Generated boundary, not an official one")
    centre: list[float] = Field(description="[lon, lat] of a point inside the area")
    bbox: list[float] = Field(description="[min lon, min lat, max lon, max lat]")

    @staticmethod
    def resolve_parent_code(obj) -> str | None:
        parts = obj.path.strip("/").split("/")
        return full_code(parts[-2]) if len(parts) > 1 else None

    @staticmethod
    def resolve_centre(obj) -> list[float]:
        return [obj.centre_lon, obj.centre_lat]

    @staticmethod
    def resolve_bbox(obj) -> list[float]:
        return [obj.min_lon, obj.min_lat, obj.max_lon, obj.max_lat]


class NodeDetailOut(NodeOut):
    path: str
    child_count: int = Field(description="Children you can see")
    ancestors: list[NodeRef] = Field(description="From the city down to the parent")


class NodePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[NodeOut]


class FeatureCollectionOut(Schema):
    type: Literal["FeatureCollection"]
    features: list[dict] = Field(description="Features with properties code, name, name_en, "
                                             "level, synthetic, child_count")
    bbox: list[float]
    zoom: int = Field(description="The zoom the geometries are simplified for")
