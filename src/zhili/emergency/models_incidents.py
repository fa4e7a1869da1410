"""Incidents (突发事件): one emergency being handled, with its timeline, the rescue
resources sent to it (with their computed arrival times), tasks and notes.

Severity follows China's four grades: I 特别重大 (especially major) is the most
severe, IV 一般 (general) the least; stored as 1..4 so ordering by it puts the
worst first. A resource has at most one active assignment (a partial unique
constraint), so two dispatchers can never send the same resource twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import AreaScopedModel


class Severity(models.IntegerChoices):
    ESPECIALLY_MAJOR = 1, _("I especially major")
    MAJOR = 2, _("II major")
    LARGE = 3, _("III large")
    GENERAL = 4, _("IV general")


SEVERITY_COLOURS = {1: "red", 2: "orange", 3: "yellow", 4: "blue"}


class Incident(AreaScopedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    class Source(models.TextChoices):
        WARNING = "warning", _("from a warning")
        CASE = "case", _("from a case")
        MANUAL = "manual", _("by hand")

    number = models.CharField(max_length=24, unique=True)
    title = models.CharField(_("title"), max_length=200)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(max_length=8, choices=Source.choices)
    lon = models.FloatField()
    lat = models.FloatField()
    grid = models.ForeignKey("geo.AreaNode", on_delete=models.PROTECT, related_name="+")
    warning = models.ForeignKey("warning.Warning", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                db_constraint=False)
    case = models.ForeignKey("governance.Case", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    summary = models.TextField(_("summary"), blank=True)  # required to close
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["severity", "-opened_at"]
        indexes = [models.Index(fields=["status", "severity"])]
        verbose_name = _("incident")

    def __str__(self):
        return f"{self.number} {self.title}"


class IncidentEvent(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.incident_id} {self.kind}"


class IncidentAssignment(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assignments")
    resource = models.ForeignKey("emergency.RescueResource", on_delete=models.PROTECT,
                                 related_name="+")
    mode = models.CharField(max_length=8)  # drive, walk, air
    eta_seconds = models.FloatField(null=True)  # None: the road network does not connect
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        constraints = [models.UniqueConstraint(
            fields=["resource"], condition=models.Q(released_at__isnull=True),
            name="incident_resource_one_active")]

    def __str__(self):
        return f"{self.resource_id} to {self.incident_id}"


class IncidentTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tasks")
    what = models.CharField(_("what"), max_length=300)
    department = models.ForeignKey("accounts.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey("emergency.RescueResource", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.what
