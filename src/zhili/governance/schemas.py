"""Input and output shapes of the governance API (/api/v1/governance)."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from zhili.core.schemas import Integer, Number
from zhili.governance.events import event_label


def _display(user) -> str | None:
    if user is None:
        return None
    return user.display_name or user.get_username()


# -- categories ----------------------------------------------------------------


class CategoryOut(Schema):
    code: str
    name: str
    name_en: str
    board: str
    board_label: str
    is_dispute: bool
    priority: int
    accept_minutes: int
    arrive_minutes: int
    resolve_minutes: int
    escalate_minutes: int
    duplicate_radius_m: int
    duplicate_window_hours: int
    lead_department: str | None
    departments: list[str]
    attributes: list[dict]

    @staticmethod
    def resolve_board_label(obj) -> str:
        return str(obj.get_board_display())

    @staticmethod
    def resolve_lead_department(obj) -> str | None:
        return obj.lead_department.code if obj.lead_department_id else None

    @staticmethod
    def resolve_departments(obj) -> list[str]:
        return [d.code for d in obj.departments.all()]


# -- inputs --------------------------------------------------------------------


class CaseReportIn(Schema):
    category: str = Field(description="a category code from GET /categories")
    description: str = Field(description="what is wrong (1–2000 characters)")
    lon: Number
    lat: Number
    crs: str = Field("wgs84", description="wgs84, or gcj02 as phone map APIs return")
    address: str = ""
    anonymous: bool = False
    contact_name: str = ""
    contact_phone: str = ""
    channel: str = Field("api", description="api, resident, or patrol (grid staff on their grid)")
    attributes: dict = Field(default_factory=dict,
                             description="answers to the category's attributes, by code")


class VersionIn(Schema):
    version: Integer = Field(description="the case version you last read (409 when it changed)")
    note: str = ""


class ArriveIn(VersionIn):
    lon: Number | None = None
    lat: Number | None = None
    crs: str = "wgs84"


class ResolveIn(VersionIn):
    fixed: bool = Field(True, description="false: resolved as far as possible, not fixed")


class CloseIn(VersionIn):
    outcome: str = Field(description="fixed or not_fixed")


class PurposeIn(Schema):
    purpose: str = Field("", max_length=200,
                         description="why you need it (4-200 characters); written to the audit log")


class ContactOut(Schema):
    """A case's contact in full (after an audited reveal)."""
    case_id: int = Field(..., alias="pk")
    tracking_no: str
    reporter: str | None = None
    contact_name: str
    contact_phone: str
    contact_email: str

    @staticmethod
    def resolve_reporter(obj) -> str | None:
        return _display(obj.reporter) if obj.reporter_id else None


class ReporterOut(Schema):
    """Who reported a case (for an auditor, after an audited reveal)."""
    case_id: int = Field(..., alias="pk")
    tracking_no: str
    anonymous: bool
    reporter_id: int | None
    reporter: str | None = None
    channel: str

    @staticmethod
    def resolve_reporter(obj) -> str | None:
        return obj.reporter.get_username() if obj.reporter_id else None


class ReasonIn(Schema):
    version: Integer
    reason: str


class AssignIn(Schema):
    version: Integer
    assignee: int | str = Field(description="user id or username of a worker on the grid")


class DispatchIn(Schema):
    version: Integer
    lead: str = Field(description="the lead department's code")
    cooperating: list[str] = Field(default_factory=list)
    instructions: str = ""
    due_hours: Integer | None = None


class RateIn(Schema):
    rating: Integer = Field(description="1 (poor) to 5 (excellent)")
    comment: str = ""


class MaybeVersionIn(Schema):
    version: Integer | None = None


class NoteIn(Schema):
    note: str = ""


class PartyIn(Schema):
    person_id: Integer
    side: str = Field(description="applicant or respondent")


class DisputeIn(Schema):
    category: str = Field(description="a dispute category (is_dispute) code")
    description: str
    lon: Number
    lat: Number
    crs: str = "wgs84"
    address: str = ""
    dispute_type: str | None = None
    parties: list[PartyIn]


class SessionIn(Schema):
    held_at: datetime
    level: str
    result: str
    notes: str = ""


class DisputeResolveIn(Schema):
    level: str = Field(description="grid … city, court or arbitration")
    agreement: str = ""


# -- outputs -------------------------------------------------------------------


class CaseItemOut(Schema):
    id: int
    tracking_no: str
    category: str
    category_name: str
    board: str
    is_dispute: bool
    status: str
    step: str
    due_at: datetime | None
    overdue: bool
    current_level: str
    highest_level: str
    grid: str
    grid_name: str
    lon: float
    lat: float
    summary: str
    assignee: str | None
    duplicate_of: int | None
    created_at: datetime
    version: Integer

    @staticmethod
    def resolve_category(obj) -> str:
        return obj.category.code

    @staticmethod
    def resolve_category_name(obj) -> str:
        return obj.category.name

    @staticmethod
    def resolve_board(obj) -> str:
        return obj.category.board

    @staticmethod
    def resolve_overdue(obj) -> bool:
        from django.utils import timezone

        from zhili.governance.models import OPEN_STATUSES

        return bool(obj.due_at and obj.status in OPEN_STATUSES and obj.due_at < timezone.now())

    @staticmethod
    def resolve_grid(obj) -> str:
        return obj.grid.code

    @staticmethod
    def resolve_grid_name(obj) -> str:
        return obj.grid.name

    @staticmethod
    def resolve_summary(obj) -> str:
        return obj.description[:140]

    @staticmethod
    def resolve_assignee(obj) -> str | None:
        return _display(obj.assignee)

    @staticmethod
    def resolve_duplicate_of(obj) -> int | None:
        return obj.duplicate_of_id


class CasePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CaseItemOut]


class PhotoOut(Schema):
    id: int
    url: str
    width: int
    height: int
    size: int
    sha256: str

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/api/v1/governance/photos/{obj.pk}"


class EventOut(Schema):
    id: int
    at: datetime
    kind: str
    label: str
    actor: str | None
    note: str
    data: dict
    photos: list[PhotoOut]

    @staticmethod
    def resolve_label(obj) -> str:
        return event_label(obj.kind)

    @staticmethod
    def resolve_actor(obj) -> str | None:
        if getattr(obj, "by_anonymous_reporter", False):
            return "anonymous"  # the case's anonymous reporter, never named to others
        return _display(obj.actor)

    @staticmethod
    def resolve_photos(obj) -> list:
        return getattr(obj, "photo_list", [])


class TaskOut(Schema):
    id: int
    case_id: int
    department: str
    department_name: str
    role: str
    status: str
    instructions: str
    note: str
    due_at: datetime
    done_at: datetime | None
    overdue: bool

    @staticmethod
    def resolve_department(obj) -> str:
        return obj.department.code

    @staticmethod
    def resolve_department_name(obj) -> str:
        return obj.department.name

    @staticmethod
    def resolve_overdue(obj) -> bool:
        from django.utils import timezone

        return obj.status in ("open", "accepted") and obj.due_at < timezone.now()


class InboxTaskOut(TaskOut):
    case: CaseItemOut


class CaseOut(CaseItemOut):
    description: str
    address: str
    channel: str
    anonymous: bool
    reporter: str | None = None
    contact_name: str = ""
    contact_phone: str = ""
    attributes: dict
    outcome: str
    resolved_level: str
    reject_reason: str
    rating: int | None
    rating_comment: str
    reopen_until: datetime | None
    accepted_at: datetime | None
    arrived_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    duplicate_of_tracking_no: str | None = None
    dispute_id: int | None = None
    actions: list[str] = []
    timeline: list[EventOut] = []
    tasks: list[TaskOut] = []

    # Who reported, and how to reach them: only for staff and the reporter,
    # never for an anonymous case (the API sets `shown_*` after checking). The
    # phone is masked for staff: POST …/reveal-contact shows it, audited.
    @staticmethod
    def resolve_reporter(obj) -> str | None:
        return getattr(obj, "shown_reporter", None)

    @staticmethod
    def resolve_contact_name(obj) -> str:
        return getattr(obj, "shown_contact_name", "")

    @staticmethod
    def resolve_contact_phone(obj) -> str:
        return getattr(obj, "shown_contact_phone", "")


class PartyOut(Schema):
    person_id: int
    name: str
    side: str


class SessionOut(Schema):
    id: int
    held_at: datetime
    level: str
    result: str
    notes: str
    mediator: str | None

    @staticmethod
    def resolve_mediator(obj) -> str | None:
        return _display(obj.mediator)


class DisputeItemOut(Schema):
    id: int
    dispute_type: str
    resolution_level: str
    resolved_at: datetime | None
    case: CaseItemOut


class DisputePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DisputeItemOut]


class DisputeOut(DisputeItemOut):
    agreement: str
    parties: list[PartyOut]
    sessions: list[SessionOut]
