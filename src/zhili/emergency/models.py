"""Emergency (应急): rescue resources, the road network, rescue circles.

A rescue resource (救援力量) lies in a grid and belongs to a rescue class by
its kind: air bases fly (air), fire and rescue stations and professional teams
drive (ground), community responder groups (群防队员) walk (responders). A
rescue circle (救援圈) is where a class arrives within its time target; each
coverage run stores, for every risk point and every grid, the best time of
each class and the resource that gives it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import AreaScopedModel

CLASSES = ("air", "ground", "responders")
CLASS_LABELS = {"air": _("air rescue"), "ground": _("ground rescue"),
                "responders": _("community responders")}


class RescueResource(AreaScopedModel):
    class Kind(models.TextChoices):
        AIR_BASE = "air_base", _("air rescue base")
        FIRE_STATION = "fire_station", _("fire and rescue station")
        PROFESSIONAL_TEAM = "professional_team", _("professional rescue team")
        RESPONDER_GROUP = "responder_group", _("community responder group")

    class Availability(models.TextChoices):
        AVAILABLE = "available", _("available")
        BUSY = "busy", _("busy")
        OFF_DUTY = "off_duty", _("off duty")

    # Shown masked, never searched or filtered on (core.personal); reading them is audited.
    personal_fields = ("contact_name", "contact_phone")
    KIND_CLASS = {"air_base": "air", "fire_station": "ground", "professional_team": "ground",
                  "responder_group": "responders"}

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    grade = models.CharField(_("class or grade"), max_length=40, blank=True)  # e.g. 特勤站
    capacity = models.PositiveIntegerField(_("capacity (people)"), default=0)
    availability = models.CharField(_("availability"), max_length=10,
                                    choices=Availability.choices, default=Availability.AVAILABLE)
    lon = models.FloatField()
    lat = models.FloatField()
    grid = models.ForeignKey("geo.AreaNode", on_delete=models.PROTECT, related_name="+")
    contact_name = models.CharField(_("contact"), max_length=64, blank=True)  # personal data
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)  # personal data
    # The team's own accounts (its leader, its members): told when the team is sent
    # (emergency/team_notice.py), and they acknowledge in their inbox.
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+",
                                     verbose_name=_("members (platform accounts)"))
    synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("rescue resource")
        verbose_name_plural = _("rescue resources")
        indexes = [models.Index(fields=["kind", "availability"])]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def rescue_class(self) -> str:
        return self.KIND_CLASS[self.kind]


class RoadNetwork(models.Model):
    """One imported or generated network; the newest row is the current one and its
    id is the version every process compares with the graph it holds."""

    file_name = models.CharField(max_length=128)  # under DATA_DIR/roads/
    source = models.CharField(max_length=255)
    synthetic = models.BooleanField(default=False)
    nodes = models.PositiveIntegerField()
    drive_edges = models.PositiveIntegerField()
    walk_edges = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("road network")

    def __str__(self):
        return f"road network v{self.pk} ({self.nodes} nodes)"


class CoverageRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    reason = models.CharField(max_length=64, blank=True)
    network = models.ForeignKey(RoadNetwork, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    targets = models.JSONField(default=dict)  # class -> seconds
    resources = models.JSONField(default=dict)  # class -> available resources counted
    unreachable = models.JSONField(default=dict)  # class -> risk points no resource reaches
    polygons = models.JSONField(default=dict)  # class -> GeoJSON (Multi)Polygon
    points = models.PositiveIntegerField(default=0)
    routing_s = models.FloatField(default=0)
    polygons_s = models.FloatField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    # Beaten by the running process; a `running` run whose beat stopped is failed by the
    # sweep (coverage.coverage_runs_stale_fail): its process was killed.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One recomputation at a time: the claim of a run is this row's INSERT.
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="running"),
                                    name="emergency_one_running_coverage_run"),
        ]

    def __str__(self):
        return f"coverage run {self.pk} ({self.status})"


class _Times(models.Model):
    """Best seconds of each class (null: no resource of it reaches) and who gives it."""

    run = models.ForeignKey(CoverageRun, on_delete=models.CASCADE, related_name="+")
    area_path = models.CharField(max_length=96, db_index=True)
    street_path = models.CharField(max_length=96)
    air_s = models.FloatField(null=True)
    air_resource = models.ForeignKey(RescueResource, null=True, on_delete=models.SET_NULL,
                                     related_name="+", db_constraint=False)
    ground_s = models.FloatField(null=True)
    ground_resource = models.ForeignKey(RescueResource, null=True, on_delete=models.SET_NULL,
                                        related_name="+", db_constraint=False)
    responders_s = models.FloatField(null=True)
    responders_resource = models.ForeignKey(RescueResource, null=True,
                                            on_delete=models.SET_NULL, related_name="+",
                                            db_constraint=False)
    gap = models.BooleanField(default=False)  # outside the circle of at least one class

    class Meta:
        abstract = True


class PointCoverage(_Times):
    risk_point = models.ForeignKey("warning.RiskPoint", on_delete=models.CASCADE,
                                   related_name="+", db_constraint=False)

    class Meta:
        indexes = [models.Index(fields=["run", "gap", "area_path"])]

    def __str__(self):
        return f"risk point {self.risk_point_id} in run {self.run_id}"


class GridCoverage(_Times):
    grid = models.ForeignKey("geo.AreaNode", on_delete=models.CASCADE, related_name="+",
                             db_constraint=False)

    def __str__(self):
        return f"grid {self.grid_id} in run {self.run_id}"


from zhili.emergency.models_incidents import (  # noqa: E402, F401  (one app, one models module)
    Incident,
    IncidentAssignment,
    IncidentEvent,
    IncidentTask,
)
