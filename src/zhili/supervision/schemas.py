from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from zhili.core.schemas import Day, Integer, Number


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


# -- reports (报表) and problem lists (问题清单) ---------------------------------------
# Names are prefixed (Report…, ListProblem…): `ProblemOut` is the RFC 9457 body.


class ReportRunOut(Schema):
    id: int
    period_start: date
    trigger: str = Field(description="schedule or manual")
    requested_by: str | None = Field(description="who asked; null for the calendar")
    status: str = Field(description="queued, running, succeeded or failed")
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    reason: str = Field(description="why it failed, in the reader's language; empty otherwise")


class ReportOut(Schema):
    id: int
    series: int
    kind: str
    kind_name: str
    area: str = Field(description="the area's code")
    area_name: str
    area_path: str
    period_start: date
    period_end: date = Field(description="exclusive")
    revision: int
    generated_at: datetime
    empty: bool = Field(description="no data for the area and period")
    subscribed: bool
    pdf: str = Field(description="the PDF's URL; ?lang=en or ?lang=zh-hans picks the language")
    csv: str | None = Field(description="the tables in full as CSV, when the report has any")


class ReportFigureOut(Schema):
    label: str
    value: str = Field(description="as shown in the report (— when it cannot be computed)")


class ReportDetailOut(ReportOut):
    title: str
    figures: list[ReportFigureOut]
    notes: list[str]
    runs: list[ReportRunOut] = Field(description="the runs of this period, newest first")


class ReportPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ReportOut]


class ReportSeriesOut(Schema):
    id: int
    kind: str
    kind_name: str
    area: str
    area_path: str
    owner: str | None
    subscribed: bool
    runs: list[ReportRunOut]


class ReportReaderOut(Schema):
    username: str
    name: str


class ReportRegenerateIn(Schema):
    kind: str = Field(max_length=40, description="one of the eight report kinds")
    area: str = Field(max_length=20, description="an area code, e.g. 500103")
    period_start: Day = Field(description="a day in the (past) period to make")


class ListProblemEvidenceOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class ListProblemEventOut(Schema):
    kind: str
    label: str
    actor: str | None
    note: str
    at: datetime
    evidence: list[ListProblemEvidenceOut]


class ListProblemOut(Schema):
    number: str
    list_type: str
    list_name: str
    title: str
    area: str
    area_name: str
    area_path: str
    owner_department: str | None = Field(description="the owning department's code")
    owner_area: str | None = Field(description="the owning area unit's code")
    deadline: date
    status: str
    overdue: bool
    returned_count: int
    rule: str | None = Field(description="the rule that raised it; null when raised by hand")
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    version: int


class ListProblemDetailOut(ListProblemOut):
    description: str
    steps: str
    actions: list[str] = Field(description="the steps the caller may take now")
    timeline: list[ListProblemEventOut]


class ListProblemPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ListProblemOut]


class ListProblemRaiseIn(Schema):
    list_type: str = Field(max_length=40, description="one of the eight lists")
    title: str = Field(max_length=200)
    area: str = Field(max_length=20, description="an area code")
    deadline: Day
    owner_department: str | None = Field(None, max_length=40, description="a department code")
    owner_area: str | None = Field(None, max_length=20,
                                   description="an area unit within the area (default: the area)")
    description: str = Field("", max_length=4000)
    steps: str = Field("", max_length=4000)


class ListProblemStepIn(Schema):
    version: Integer | None = Field(None, ge=1, le=2**31 - 1,
                                description="the version last read; a stale one is a 409")
    note: str = Field("", max_length=4000,
                      description="required to return, and to record a step")


class ListProblemRuleOut(Schema):
    code: str
    name: str
    name_en: str
    list_type: str
    list_name: str
    kpi: str
    kpi_name: str = Field(description="the KPI's name; its code when the KPI is not installed")
    comparison: str = Field(description="below or above")
    threshold: float
    period: str = Field(description="week or month")
    periods: int = Field(description="consecutive complete periods in breach")
    area: str | None = Field(description="the area's code; null for the whole city")
    area_name: str | None
    area_path: str = Field(description="empty for the whole city")
    area_level: str = Field(description="the level evaluated: district, street, community, grid")
    deadline_days: int
    active: bool
    may_edit: bool = Field(description="whether the caller may change the rule")


class ListProblemRulePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ListProblemRuleOut]


_RULE_DOC = {
    "kpi": "a KPI code from GET /supervision/kpis (a single number, not a distribution)",
    "threshold": "a finite number; for a KPI whose unit is a share, 0 to 1",
    "area": "an area code: the rule covers its subtree; null or empty: the whole city",
}


class ListProblemRuleIn(Schema):
    code: str = Field(max_length=60, description="letters, digits, - and _; cannot change")
    name: str = Field(max_length=128)
    name_en: str = Field("", max_length=200)
    list_type: str = Field(max_length=40, description="one of the eight lists")
    kpi: str = Field(max_length=64, description=_RULE_DOC["kpi"])
    comparison: str = Field("below", max_length=8, description="below or above")
    threshold: Number = Field(description=_RULE_DOC["threshold"])
    period: str = Field("week", max_length=8, description="week or month")
    periods: Integer = Field(2, description="consecutive complete periods in breach, 1 to 12")
    area: str | None = Field(None, max_length=20, description=_RULE_DOC["area"])
    area_level: str = Field("street", max_length=10,
                            description="district, street, community or grid (at or below "
                                        "the area's level)")
    deadline_days: Integer = Field(14, description="days the owner has to put it right, "
                                                   "1 to 365")
    active: bool = True


class ListProblemRulePatch(Schema):
    """Only the fields sent change; `area: null` makes the rule the whole city's."""

    name: str | None = Field(None, max_length=128)
    name_en: str | None = Field(None, max_length=200)
    list_type: str | None = Field(None, max_length=40)
    kpi: str | None = Field(None, max_length=64, description=_RULE_DOC["kpi"])
    comparison: str | None = Field(None, max_length=8)
    threshold: Number | None = Field(None, description=_RULE_DOC["threshold"])
    period: str | None = Field(None, max_length=8)
    periods: Integer | None = None
    area: str | None = Field(None, max_length=20, description=_RULE_DOC["area"])
    area_level: str | None = Field(None, max_length=10)
    deadline_days: Integer | None = None
    active: bool | None = None
