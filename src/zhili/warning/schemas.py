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


class WarningOut(Schema):
    number: str
    level: int
    colour: str
    status: str
    source: str
    public: bool
    risk_point: str = Field(description="the risk point's code")
    risk_point_name: str
    raised_at: str
    closed_at: str | None = None

    @staticmethod
    def of(w) -> dict:
        return {"number": w.number, "level": w.level, "colour": w.colour, "status": w.status,
                "source": w.source, "public": w.public, "risk_point": w.risk_point.code,
                "risk_point_name": w.risk_point.name, "raised_at": w.raised_at.isoformat(),
                "closed_at": w.closed_at.isoformat() if w.closed_at else None}


class WarningPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[WarningOut]


class WarningRaiseIn(Schema):
    point: str = Field(max_length=64, description="the risk point's code")
    level: int = Field(description="1 blue (IV), 2 yellow (III), 3 orange (II), 4 red (I)")
    note: str = Field(max_length=1000, description="what was observed")


class WarningCancelIn(Schema):
    reason: str = Field(max_length=500)


class WarningActionIn(Schema):
    text: str = Field(max_length=1000, description="what was done on site")


class WarningAcknowledgedOut(Schema):
    number: str
    acknowledged: int = Field(description="deliveries this acknowledged (0: already done)")
