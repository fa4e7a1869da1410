from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Schema
from pydantic import Field


class KpiOut(Schema):
    code: str
    name: str
    formula: str
    unit: str
    better: str
    reads: str
    source: str | None
    headline: bool


class KpiValueOut(Schema):
    code: str
    area: str = Field(description="the area's path")
    period: str
    start: date
    value: Any = Field(description="a number, a {level: share} distribution, or null")
    reason: str = Field(description="why the value is null; empty otherwise")


class KpiQuery(Schema):
    area: str = Field(max_length=20, description="an area code, e.g. 500103")
    period: str = Field("month", description="day, week or month")
    start: date = Field(description="the period's first day (a Monday for a week)")


class SeriesQuery(KpiQuery):
    count: int = Field(8, ge=1, le=60, description="periods up to and including `start`")


class WeightIn(Schema):
    kpi: str = Field(max_length=64)
    weight: float
    worst: float = Field(description="the value scoring 0")
    best: float = Field(description="the value scoring 100")


class ScoringRuleIn(Schema):
    code: str = Field(max_length=48)
    name: str = Field(max_length=96)
    name_en: str = Field(max_length=128)
    level: str = Field(description="street or district")
    period: str = Field("month", description="week or month")
    active: bool = True
    weights: list[WeightIn] = Field(max_length=30)


class ScoringRuleOut(Schema):
    code: str
    name: str
    name_en: str
    level: str
    period: str
    active: bool
    weights: list[WeightIn]


class ScorePartOut(Schema):
    kpi: str
    weight: float
    value: Any
    reason: str
    points: float | None


class ScoreOut(Schema):
    area: str
    rank: int | None
    score: float | None
    reason: str
    parts: list[ScorePartOut]
