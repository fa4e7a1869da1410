from __future__ import annotations

from ninja import Schema
from pydantic import Field


class ReadingIn(Schema):
    t: str | float = Field(description="ISO 8601 with an offset, or epoch seconds")
    v: float = Field(strict=True, description="the value, in the sensor's unit (a JSON number)")


class ReadingBatchIn(Schema):
    sensor: str = Field(max_length=64, description="the sensor's code")
    readings: list[ReadingIn] = Field(max_length=10_000)


class IngestOut(Schema):
    stored: int
    duplicates: int
    late: int
    rejected: dict[str, int]
    rejected_by_sensor: dict[str, dict[str, int]]
    warnings: list[str]
