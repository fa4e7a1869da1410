"""Grid governance: cases (案件/事件) reported by residents, workers, machines and
other modules; categories on the four boards; dispatch to workers and
departments; the escalation ladder; disputes (矛盾纠纷) with mediation.

Every case carries the path of its grid (`area_path`), so every read is scoped.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import AreaScopedModel


class Board(models.TextChoices):
    PARTY_BUILDING = "party_building", _("Party building")
    ECONOMIC_DEVELOPMENT = "economic_development", _("Economic development")
    LIVELIHOOD_SERVICES = "livelihood_services", _("Livelihood services")
    SAFETY_RULE_OF_LAW = "safety_rule_of_law", _("Safety and rule of law")


class Level(models.TextChoices):
    """The escalation ladder, lowest first; disputes may also end in court or arbitration."""

    GRID = "grid", _("Grid")
    COMMUNITY = "community", _("Community")
    STREET = "street", _("Street")
    DISTRICT = "district", _("District")
    CITY = "city", _("City")


LADDER = [Level.GRID, Level.COMMUNITY, Level.STREET, Level.DISTRICT, Level.CITY]


class Category(models.Model):
    code = models.SlugField(max_length=48, unique=True)
    name = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128)
    board = models.CharField(max_length=24, choices=Board.choices, db_index=True)
    is_dispute = models.BooleanField(default=False)
    lead_department = models.ForeignKey("accounts.Department", null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    departments = models.ManyToManyField("accounts.Department", blank=True, related_name="+")
    priority = models.PositiveSmallIntegerField(default=3, help_text=_("1 = most urgent"))
    # Time limits per step, in minutes.
    accept_minutes = models.PositiveIntegerField(default=60)
    arrive_minutes = models.PositiveIntegerField(default=240)
    resolve_minutes = models.PositiveIntegerField(default=2880)
    # How long a level may hold an overdue case before it climbs one more rung.
    escalate_minutes = models.PositiveIntegerField(default=240)
    # Probable duplicates: same category, this close, this recent.
    duplicate_radius_m = models.PositiveIntegerField(default=50)
    duplicate_window_hours = models.PositiveIntegerField(default=24)
    # Open311 attributes: [{"code", "datatype", "required", "description", "values": [...]}]
    attributes = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["board", "code"]
        verbose_name_plural = "categories"

    def __str__(self):
        return f"{self.name} ({self.code})"


class Status(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACCEPTED = "accepted", _("Accepted")
    DISPATCHED = "dispatched", _("Dispatched")
    ON_SITE = "on_site", _("On site")
    RESOLVED = "resolved", _("Resolved")
    VERIFIED = "verified", _("Verified")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    REJECTED = "rejected", _("Rejected")


OPEN_STATUSES = [Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.ON_SITE,
                 Status.REOPENED]


class Step(models.TextChoices):
    """Which time limit is running."""

    ACCEPT = "accept", _("Accept")
    ARRIVE = "arrive", _("Arrive")
    RESOLVE = "resolve", _("Resolve")
    NONE = "", _("None")


class Outcome(models.TextChoices):
    FIXED = "fixed", _("Fixed")
    NOT_FIXED = "not_fixed", _("Closed, not fixed")


class Channel(models.TextChoices):
    RESIDENT = "resident", _("Resident (web or phone)")
    PATROL = "patrol", _("Grid worker patrol")
    API = "api", _("API")
    OPEN311 = "open311", _("Open311")
    SYSTEM = "system", _("Another module (warnings, sensors)")


class Case(AreaScopedModel):
    # Who reported and how to reach them: masked, revealed for a purpose, never
    # filtered on in the admin (core.personal); `reporter` of an anonymous case
    # is the sealed link (docs/security.md).
    personal_fields = ("reporter", "contact_name", "contact_phone", "contact_email")
    # Every index below is paid for on each intake: only those a query uses are
    # kept, and none twice (see Meta.indexes; docs/governance.md, "Indexes").
    area_path = models.CharField(max_length=96, editable=False)  # indexed in Meta
    tracking_no = models.CharField(max_length=24)  # unique in Meta, without a LIKE index
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases",
                                 db_index=False)  # case_category_recent leads with it
    is_dispute = models.BooleanField(default=False)
    description = models.TextField(max_length=2000)
    address = models.CharField(max_length=200, blank=True)
    lon = models.FloatField()  # WGS84, converted from GCJ-02 at intake when needed
    lat = models.FloatField()
    grid = models.ForeignKey("geo.AreaNode", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=12, choices=Channel.choices)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="reported_cases")
    anonymous = models.BooleanField(default=False)
    contact_name = models.CharField(max_length=64, blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    contact_email = models.EmailField(max_length=254, blank=True)
    # A photo an Open311 client hosts itself (its public URL, shown as given).
    media_url = models.URLField(max_length=500, blank=True)
    attributes = models.JSONField(default=dict, blank=True)  # category-specific answers

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REPORTED)
    step = models.CharField(max_length=8, choices=Step.choices, default=Step.ACCEPT, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    # When the periodic sweep next escalates this case if it is still open: the
    # step's due time at first, then `escalate_minutes` after each escalation.
    escalate_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="assigned_cases")
    current_level = models.CharField(max_length=10, choices=Level.choices, default=Level.GRID)
    highest_level = models.CharField(max_length=10, choices=Level.choices, default=Level.GRID)
    resolved_level = models.CharField(max_length=10, choices=Level.choices, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="duplicates", db_index=False)
    duplicate_confirmed = models.BooleanField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    reject_reason = models.CharField(max_length=500, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.CharField(max_length=500, blank=True)
    reopen_until = models.DateTimeField(null=True, blank=True)
    # Whether each step finished within its limit (None: not reached), and the
    # minutes from report to resolution: the figures aggregate these columns.
    accept_on_time = models.BooleanField(null=True, blank=True)
    arrive_on_time = models.BooleanField(null=True, blank=True)
    resolve_on_time = models.BooleanField(null=True, blank=True)
    handling_minutes = models.PositiveIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Optimistic concurrency: every transition bumps it; a stale writer gets 409.
    version = models.PositiveIntegerField(default=1)
    # The submission's Idempotency-Key and who sent it ("user:12", "open311:3",
    # "warning:77"): a retry with the same pair returns this case. On the case
    # itself, so intake writes one row fewer.
    intake_key = models.CharField(max_length=128, blank=True, editable=False)
    intake_scope = models.CharField(max_length=80, blank=True, editable=False)
    # SHA-256 of what the keyed submission asked for: the same key with a
    # different request is refused (422), not answered with this case.
    intake_fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # A street operator's queue: an index range on the path, newest first.
            # varchar_pattern_ops: LIKE 'prefix%' uses it under any collation
            # (PostgreSQL), and equality too.
            models.Index(fields=["area_path", "-created_at"], name="case_area_path_recent",
                         opclasses=["varchar_pattern_ops", "timestamptz_ops"]),
            # The open queue: its size is the backlog, not the city's history.
            # varchar_pattern_ops: LIKE 'prefix%' uses it under any collation (PostgreSQL).
            models.Index(fields=["area_path", "-created_at"], name="case_open_area_recent",
                         condition=Q(status__in=OPEN_STATUSES),
                         opclasses=["varchar_pattern_ops", "timestamptz_ops"]),
            # Intake's duplicate check: open originals of one category in a band
            # of latitude a few hundred metres wide (longitude filtered after).
            models.Index(fields=["category", "lat"], name="case_open_nearby",
                         condition=Q(status__in=OPEN_STATUSES, duplicate_of__isnull=True)),
            # Partial: a new case has neither, so intake writes no entry here.
            models.Index(fields=["duplicate_of"], name="case_duplicates",
                         condition=Q(duplicate_of__isnull=False)),
            models.Index(fields=["reopen_until"], name="case_reopen_until",
                         condition=Q(reopen_until__isnull=False)),
            models.Index(fields=["escalate_at"], name="case_open_escalate",
                         condition=Q(status__in=OPEN_STATUSES)),
            models.Index(fields=["status", "due_at"], name="case_open_due"),
            models.Index(fields=["category", "created_at"], name="case_category_recent"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tracking_no"], name="case_tracking_no_unique"),
            # Key first: Open311's tokens/{id} looks a key up across its clients.
            models.UniqueConstraint(fields=["intake_key", "intake_scope"],
                                    condition=~Q(intake_key=""),
                                    name="case_intake_key_unique"),
        ]

    def __str__(self):
        return self.tracking_no


class CaseEvent(models.Model):
    """The case's user-visible timeline; written only through governance/events.py."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=24)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="photos")
    image = models.FileField(upload_to="cases/%Y/%m/")  # re-encoded JPEG, EXIF stripped
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.sha256[:12]} ({self.width}×{self.height})"


class DepartmentTask(models.Model):
    """One department's part of a case ("one-click dispatch": a lead and cooperating ones)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        COOPERATING = "cooperating", _("Cooperating")

    class TaskStatus(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DONE = "done", _("Done")
        RETURNED = "returned", _("Returned")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="department_tasks")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT,
                                   related_name="+")
    role = models.CharField(max_length=12, choices=Role.choices)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    instructions = models.TextField(blank=True)
    due_at = models.DateTimeField()
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    # Copied from the case so a department officer's inbox is scoped without a join.
    area_path = models.CharField(max_length=96, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], name="one_task_per_department"),
            models.UniqueConstraint(fields=["case"], condition=Q(role="lead"),
                                    name="one_lead_department"),
        ]
        indexes = [models.Index(fields=["department", "status", "due_at"])]

    def __str__(self):
        return f"{self.department_id} · {self.get_role_display()} · {self.status}"


class DutyShift(models.Model):
    """Who is on duty on a grid: weekdays (0=Monday) and a daily time window."""

    grid = models.ForeignKey("geo.AreaNode", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    weekdays = models.CharField(max_length=13, default="0,1,2,3,4,5,6")
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        indexes = [models.Index(fields=["grid"])]

    def __str__(self):
        return f"{self.user_id} @ {self.grid_id} {self.start_time}–{self.end_time}"


class DisputeType(models.TextChoices):
    NEIGHBOUR = "neighbour", _("Neighbour")
    FAMILY = "family", _("Marriage and family")
    LABOUR = "labour", _("Labour and wages")
    PROPERTY_MANAGEMENT = "property_management", _("Property management")
    LAND = "land", _("Land and forest rights")
    CONSUMER = "consumer", _("Consumer")
    TRAFFIC = "traffic", _("Traffic accident")
    MEDICAL = "medical", _("Medical")
    OTHER = "other", _("Other")


class ResolutionLevel(models.TextChoices):
    GRID = "grid", _("Grid")
    COMMUNITY = "community", _("Community")
    STREET = "street", _("Street")
    DISTRICT = "district", _("District")
    CITY = "city", _("City")
    COURT = "court", _("Court")
    ARBITRATION = "arbitration", _("Arbitration")


# "Resolved at street level or below" (the seed's 98.2%) counts these.
STREET_OR_BELOW = [ResolutionLevel.GRID, ResolutionLevel.COMMUNITY, ResolutionLevel.STREET]


class Dispute(models.Model):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="dispute")
    dispute_type = models.CharField(max_length=24, choices=DisputeType.choices)
    agreement = models.TextField(blank=True)
    resolution_level = models.CharField(max_length=12, choices=ResolutionLevel.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.get_dispute_type_display()} ({self.case_id})"


class DisputeParty(models.Model):
    class Side(models.TextChoices):
        APPLICANT = "applicant", _("Applicant")
        RESPONDENT = "respondent", _("Respondent")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="parties")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=12, choices=Side.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dispute", "person"], name="unique_party")]

    def __str__(self):
        return f"{self.get_side_display()} {self.person_id}"


class MediationSession(models.Model):
    class Result(models.TextChoices):
        AGREED = "agreed", _("Agreement reached")
        PARTIAL = "partial", _("Partly agreed")
        FAILED = "failed", _("No agreement")
        ADJOURNED = "adjourned", _("Adjourned")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField()
    level = models.CharField(max_length=12, choices=ResolutionLevel.choices)
    mediator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="+")
    result = models.CharField(max_length=10, choices=Result.choices)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["held_at", "id"]

    def __str__(self):
        return f"{self.held_at:%Y-%m-%d} {self.level} {self.result}"


class Open311Key(models.Model):
    """An Open311 client's api_key; only its SHA-256 is stored."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
