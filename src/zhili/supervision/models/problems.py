"""Problem lists (问题清单): a breach to put right, tracked through a closed loop.

open → rectifying → submitted → verified → closed; a submitted rectification
that does not hold is returned (back to rectifying). A problem is raised by
hand or by a `ProblemRule` on a KPI; `breach_key` makes one breach (rule,
area, period) one problem however often the rule is evaluated.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import AreaScopedModel
from zhili.geo.models import LEVEL_ORDER, Level
from zhili.supervision.kinds import KIND_CHOICES

# The levels a rule may be evaluated at: every level below the city.
RULE_LEVEL_CHOICES = [(level.value, level.label) for level in LEVEL_ORDER
                      if level != Level.CITY]


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("open")
    RECTIFYING = "rectifying", _("rectifying")
    SUBMITTED = "submitted", _("submitted for verification")
    VERIFIED = "verified", _("verified")
    CLOSED = "closed", _("closed")


OPEN_PROBLEM_STATUSES = (ProblemStatus.OPEN, ProblemStatus.RECTIFYING, ProblemStatus.SUBMITTED)


class ProblemRule(models.Model):
    """"A street's on-time rate below 90% for two weeks": raises a problem per breach.

    Written only through `problem_rule_create` / `_update` / `_deactivate`
    (problems/services.py). `area` blank: the whole city; else the rule is
    evaluated only for the areas of `area_level` inside that area's subtree."""

    class Comparison(models.TextChoices):
        BELOW = "below", _("below")
        ABOVE = "above", _("above")

    class Period(models.TextChoices):
        WEEK = "week", _("week")
        MONTH = "month", _("month")

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=128)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    list_type = models.CharField(max_length=32, choices=KIND_CHOICES)
    kpi = models.CharField(_("KPI code"), max_length=64)
    comparison = models.CharField(max_length=8, choices=Comparison.choices,
                                  default=Comparison.BELOW)
    threshold = models.FloatField()
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.WEEK)
    periods = models.PositiveSmallIntegerField(default=2)  # consecutive periods in breach
    area_level = models.CharField(max_length=10, choices=RULE_LEVEL_CHOICES, default="street")
    area = models.ForeignKey("geo.AreaNode", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", help_text=_("Blank: the whole city."))
    area_path = models.CharField(max_length=96, blank=True, default="", db_index=True,
                                 editable=False)  # "" for the whole city
    deadline_days = models.PositiveSmallIntegerField(default=14)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name


class Problem(AreaScopedModel):
    number = models.CharField(max_length=24, unique=True)
    list_type = models.CharField(_("list"), max_length=32, choices=KIND_CHOICES, db_index=True)
    title = models.CharField(_("what"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    area = models.ForeignKey("geo.AreaNode", on_delete=models.PROTECT, related_name="+")
    # The owner who must put it right: a department, or an area unit (a street, a grid).
    owner_department = models.ForeignKey("accounts.Department", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+")
    owner_area = models.ForeignKey("geo.AreaNode", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    deadline = models.DateField(_("deadline"))
    status = models.CharField(max_length=12, choices=ProblemStatus.choices,
                              default=ProblemStatus.OPEN, db_index=True)
    steps = models.TextField(_("rectification steps"), blank=True)
    rule = models.ForeignKey(ProblemRule, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="problems")
    breach_key = models.CharField(max_length=160, null=True, blank=True, unique=True)
    returned_count = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["list_type", "status"])]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PROBLEM_STATUSES

    def overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.is_open and self.deadline < today


class ProblemEvent(models.Model):
    """The problem's timeline; written only through `supervision.events`."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.problem_id} {self.kind}"


class ProblemEvidence(models.Model):
    """A photo (re-encoded, metadata stripped) or a PDF attached at a step."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="evidence")
    event = models.ForeignKey(ProblemEvent, null=True, on_delete=models.SET_NULL,
                              related_name="evidence")
    file = models.FileField(upload_to="supervision/evidence/%Y/%m/")
    name = models.CharField(max_length=120)
    content_type = models.CharField(max_length=40)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name
