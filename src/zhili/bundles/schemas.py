"""API shapes for /api/v1/bundles. Applicant data leaves masked unless revealed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from zhili.registry.schemas import ERRORS, WRITE_ERRORS, ProblemOut  # noqa: F401


class BundleOut(Schema):
    code: str
    name: str
    name_en: str
    life_event: str
    audience: str
    lead_department: str = Field(..., alias="lead_department.code")
    description: str


class AnswersIn(Schema):
    answers: dict[str, bool] = Field(default_factory=dict,
                                     description="situation code -> yes/no; missing ones take their default")


class ConsentGiveIn(Schema):
    data_items: list[str] = Field(..., max_length=20,
                                  description="registry data items, e.g. person.name, certificate:marriage-certificate")


class ConsentGivenOut(Schema):
    """Names unique across apps: OpenAPI names components by class (a test checks)."""

    granted: list[str]


class SubmitIn(Schema):
    answers: dict[str, bool] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict, description="data element code -> value")
    uploads: dict[str, int] = Field(default_factory=dict, description="material code -> upload id")
    idempotency_key: str = Field(..., min_length=8, max_length=64,
                                 description="the same key returns the same application (double submission)")


class UploadOut(Schema):
    id: int
    material: str = Field(..., alias="material.code")
    filename: str
    content_type: str
    size: int
    sha256: str


class BundleTaskOut(Schema):
    id: int
    matter: str = Field(..., alias="matter.code")
    matter_name: str = Field(..., alias="matter.name")
    department: str = Field(..., alias="department.code")
    status: str
    ready_at: datetime | None
    due_at: datetime | None
    decided_at: datetime | None
    reason: str
    output_number: str
    overdue: bool


class BundleEventOut(Schema):
    kind: str
    at: datetime
    task_id: int | None
    detail: dict


class ApplicationOut(Schema):
    id: int
    reference: str
    bundle: str = Field(..., alias="bundle.code")
    status: str
    submitted_at: datetime
    completed_at: datetime | None


class ApplicationDetail(Schema):
    application: ApplicationOut
    tasks: list[BundleTaskOut]
    events: list[BundleEventOut]
    supplements: list[dict]


class ApplicationPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ApplicationOut]


class BundleInboxTaskOut(BundleTaskOut):
    application: str = Field(..., alias="application.reference")
    bundle: str = Field(..., alias="application.bundle.code")


class InboxPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[BundleInboxTaskOut]


class TaskDetail(Schema):
    task: BundleInboxTaskOut
    data: dict[str, str]
    materials: list[dict]
    masked: bool


class DecisionIn(Schema):
    decision: str = Field(..., description="approve, reject or supplement")
    reason: str = Field("", max_length=300)
    items: list[dict] = Field(default_factory=list,
                              description="for supplement: every missing item, "
                                          "{kind: element|material|note, code, note}")


class SupplementAnswerIn(Schema):
    data: dict[str, Any] = Field(default_factory=dict)
    uploads: dict[str, int] = Field(default_factory=dict)


class TaskRevealIn(Schema):
    purpose: str = Field(..., min_length=4, max_length=200)
