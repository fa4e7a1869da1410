from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from zhili.core.schemas import Id, Integer, Number


class FloodRunIn(Schema):
    model: Id = Field(description="the drainage model's id")
    rainfall_csv: str | None = Field(None, max_length=200_000,
                                     description="rows of `time,mm/h` at one fixed step "
                                     "(ISO 8601 times; without an offset, the city's time zone)")
    sensor: str | None = Field(None, max_length=64,
                               description="a rain gauge's code: its recent readings instead "
                               "of a series")
    hours: Number = Field(6, description="with `sensor`: how many hours of readings")
    step_minutes: Integer = Field(10, description="with `sensor`: the series' step")
    scenario_mm: Number | None = Field(None, description="scenario: this much more rain (mm) …")
    scenario_hours: Number | None = Field(None, description="… evenly over these hours, after "
                                          "the series")


class FloodModelOut(Schema):
    id: int
    name: str
    area: str = Field(..., description="the area's code")
    junctions: int
    synthetic: bool
    crs: str


class FloodRunOut(Schema):
    id: int
    model: int
    status: str = Field(..., description="queued, running, done or failed")
    progress: float = Field(..., description="0 to 1, the engine's share of the simulated time")
    source: str
    sensor: str
    scenario: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    error: str
    error_lines: list[str] = Field(..., description="the engine report's `ERROR nnn` lines")
    warnings: list[str] = Field(..., description="warnings this run raised or changed")


class FloodedNodeOut(Schema):
    node: str
    lon: float | None
    lat: float | None
    grid: str | None = Field(..., description="the grid's code")
    volume_m3: float
    hours: float
    peak_depth_m: float
    first_at: datetime
    peak_at: datetime
    level: int
    risk_points: list[str]
    warning: str


class FloodResultsOut(Schema):
    run: FloodRunOut
    rainfall: list[tuple[datetime, float]] = Field(..., description="(time, mm/h), each held "
                                                   "for one step")
    step_s: int
    flood_m3s: list[float] = Field(..., description="the network's flooding rate per report step")
    flooded: list[FloodedNodeOut]
