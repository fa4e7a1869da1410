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


class DispatchTeamIn(Schema):
    rescue_class: str | None = Field(
        None, alias="class",
        description="only this team class: ground (stations and professional teams, driving) "
                    "or responders (community responder groups, walking); both when absent")


class DispatchTeamResource(Schema):
    code: str
    name: str
    kind: str
    rescue_class: str
    lon: float
    lat: float


class DispatchTeamOut(Schema):
    incident: str = Field(description="the incident's number")
    opened: bool = Field(description="true when this dispatch opened the incident from the warning")
    incident_lon: float
    incident_lat: float
    resource: DispatchTeamResource
    mode: str = Field(description="drive or walk")
    eta_seconds: float | None = Field(description="travel time on the road network")
    arrival_at: datetime | None = Field(description="assigned_at + eta_seconds")
    candidates: int = Field(description="available teams of your area that were timed")
    notified: int = Field(0, description="deliveries of the team's message queued: to its member "
                                         "accounts (in-app and SMS), or else one SMS to its "
                                         "contact phone; 0: no account and no phone")
    notified_to: str = Field("", description='"members", "contact" (its contact phone, by SMS '
                                             'with an acknowledgement link) or "" (nobody)')
