from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from zhili.core.schemas import Integer, Number


class PositionIn(Schema):
    lon: Number = Field(description="longitude, WGS84")
    lat: Number = Field(description="latitude, WGS84")
    accuracy_m: Number | None = Field(None, description="the phone's stated accuracy, metres")


class PositionOut(Schema):
    worker: str
    lon: float
    lat: float
    at: datetime


class DispatchNearestIn(Schema):
    version: Integer | None = Field(
        None, description="the case version the map showed (409 when it changed meanwhile)")


class DispatchNearestOut(Schema):
    case: int
    tracking_no: str
    status: str
    version: int
    assignee: str
    travel_seconds: float
    candidates: int = Field(description="free workers with a fresh position that were compared")
