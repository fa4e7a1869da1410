"""CAP 1.2 alerts as plain data: what a warning publishes, what a reader gets back.

Field names follow the OASIS standard (camelCase there, snake_case here).
Times are aware datetimes; polygons and circles are (lat, lon) as CAP writes
them (lat first), never (lon, lat) as GeoJSON does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

NS = "urn:oasis:names:tc:emergency:cap:1.2"
GEOCODE_GB2260 = "GB/T 2260"  # the valueName of China's administrative division codes

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
              "Transport", "Infra", "CBRNE", "Other")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

# China's four colour levels (GB/T 27962 and the national emergency plans):
# red = level I … blue = level IV, mapped to CAP severities.
LEVEL_SEVERITY = {4: "Extreme", 3: "Severe", 2: "Moderate", 1: "Minor"}


@dataclass
class Area:
    desc: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)  # rings of (lat, lon)
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # (lat, lon, radius km)
    geocodes: list[tuple[str, str]] = field(default_factory=list)            # (valueName, value)


@dataclass
class Info:
    event: str
    urgency: str
    severity: str
    certainty: str
    categories: list[str]
    language: str = "zh-CN"
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    web: str = ""
    contact: str = ""
    parameters: list[tuple[str, str]] = field(default_factory=list)
    event_codes: list[tuple[str, str]] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)


@dataclass
class Reference:
    """One earlier message an Update or Cancel refers to."""

    sender: str
    identifier: str
    sent: datetime


@dataclass
class Alert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    restriction: str = ""
    addresses: str = ""
    note: str = ""
    references: list[Reference] = field(default_factory=list)
    incidents: str = ""
    infos: list[Info] = field(default_factory=list)
