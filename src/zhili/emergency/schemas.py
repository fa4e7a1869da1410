from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import Field

from zhili.core.schemas import Integer, Number
from zhili.emergency.selectors import mask_name, mask_phone

Kind = Literal["air_base", "fire_station", "professional_team", "responder_group"]
Availability = Literal["available", "busy", "off_duty"]


class ResourceOut(Schema):
    code: str
    name: str
    kind: str
    rescue_class: str
    grade: str
    capacity: int
    availability: str
    lon: float
    lat: float
    grid: str = Field(description="the grid's code")
    contact_name: str = Field(description="masked; POST …/contact for it in full (audited)")
    contact_phone: str = Field(description="masked")
    synthetic: bool

    @staticmethod
    def resolve_grid(obj) -> str:
        return obj.grid.code

    @staticmethod
    def resolve_contact_name(obj) -> str:
        return mask_name(obj.contact_name)

    @staticmethod
    def resolve_contact_phone(obj) -> str:
        return mask_phone(obj.contact_phone)


class ResourcePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ResourceOut]


class ResourceFilterIn(Schema):
    kind: Kind | None = None
    availability: Availability | None = None


class ResourceIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=128)
    kind: Kind
    lon: Number
    lat: Number
    capacity: Integer = Field(0, ge=0, le=1_000_000)
    grade: str = Field("", max_length=40)
    availability: Availability = "available"
    contact_name: str = Field("", max_length=64)
    contact_phone: str = Field("", max_length=32)


class ResourcePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=128)
    kind: Kind | None = None
    lon: Number | None = None
    lat: Number | None = None
    capacity: Integer | None = Field(None, ge=0, le=1_000_000)
    grade: str | None = Field(None, max_length=40)
    availability: Availability | None = None
    contact_name: str | None = Field(None, max_length=64)
    contact_phone: str | None = Field(None, max_length=32)


class ContactRevealIn(Schema):
    purpose: str = Field(description="why you need the contact (4-200 characters), audited")


class ResourceContactOut(Schema):
    contact_name: str
    contact_phone: str


class ClassShareOut(Schema):
    target_s: float
    covered: int
    unreachable: int
    share: float | None


class ClassPopulationOut(Schema):
    covered: int = Field(description="people in the grids whose best time of the class is "
                                     "within its target")
    share: float | None = Field(description="covered / total (null when total is 0)")


class PopulationOut(Schema):
    total: int = Field(description="people in the area's grids that have a population figure")
    covered: int = Field(description="people in grids inside every class's circle")
    share: float | None = Field(description="covered / total (null when total is 0)")
    classes: dict[str, ClassPopulationOut] = Field(description="per rescue class: air, "
                                                               "ground, responders")
    grids: int = Field(description="grids of the area in the run")
    grids_without_figure: int = Field(description="grids with no population figure, left out "
                                                  "of total and covered")
    synthetic: bool = Field(description="some figures are the demo generator's, on synthetic "
                                        "grids")


POPULATION_NULL = ("null when no grid of the area has a population figure "
                   "(population_note says so)")


class CoverageRowOut(Schema):
    path: str
    level: str
    name: str
    points: int
    classes: dict[str, ClassShareOut]
    population: PopulationOut | None = Field(description=POPULATION_NULL)
    population_note: str = Field(description="why population is null, or how many grids "
                                             "had no figure; empty otherwise")


class CoverageOut(Schema):
    run: int | None
    computed_at: str | None
    network_synthetic: bool | None = Field(description="null: no road network (straight lines)")
    population: PopulationOut | None = Field(description="the whole of your area; "
                                                         + POPULATION_NULL)
    population_note: str = Field(description="why population is null (no coverage run, no "
                                             "figures), or how many grids had no figure")
    rows: list[CoverageRowOut]


class GapOut(Schema):
    risk_point: str
    name: str
    area_path: str
    air_s: float | None
    ground_s: float | None
    responders_s: float | None
    air_resource: str | None
    ground_resource: str | None
    responders_resource: str | None
