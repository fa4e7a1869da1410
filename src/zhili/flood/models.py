"""Flood and waterlogging forecasts (内涝预报): drainage models and their runs.

A drainage model (排水管网模型) is an EPA SWMM 5 input file attached to an
area; its nodes carry WGS84 coordinates (the file's [COORDINATES]) and the
grid each lies in. A forecast run (预报计算) feeds it a rainfall series,
runs the engine in its own process and keeps everything: the input written,
the engine's report, progress, the flooded nodes and the warnings raised.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import AreaScopedModel

# Warning levels (blue, yellow, orange, red) by a flooded node's volume and hours.
DEFAULT_THRESHOLDS = {"volume_m3": [10, 100, 1000, 5000], "hours": [None, None, 2, 4]}
# Risk categories a flooded node warns (the warning app's codes), and how near.
DEFAULT_CATEGORIES = ["urban-waterlogging", "flash-flood", "river-flood", "rainstorm"]
DEFAULT_RADIUS_M = 300.0


class DrainageModel(AreaScopedModel):
    area = models.ForeignKey("geo.AreaNode", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=128)
    inp = models.TextField(_("SWMM input (.inp)"))
    source_name = models.CharField(max_length=200, blank=True)  # the uploaded file's name
    crs = models.CharField(max_length=32, default="EPSG:4326")  # of [COORDINATES]: lon/lat
    flow_units = models.CharField(max_length=4, default="CMS")
    synthetic = models.BooleanField(default=False)
    thresholds = models.JSONField(default=dict, blank=True)  # empty: DEFAULT_THRESHOLDS
    risk_categories = models.JSONField(default=list, blank=True)  # empty: DEFAULT_CATEGORIES
    risk_radius_m = models.FloatField(default=DEFAULT_RADIUS_M)
    junctions = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["area_path", "name"]
        verbose_name = _("drainage model")
        verbose_name_plural = _("drainage models")

    def __str__(self):
        return self.name

    def level_thresholds(self) -> dict:
        return self.thresholds or DEFAULT_THRESHOLDS

    def categories(self) -> list[str]:
        return self.risk_categories or DEFAULT_CATEGORIES


class ModelNode(models.Model):
    """A node of a drainage model, where it lies and in which grid."""

    model = models.ForeignKey(DrainageModel, on_delete=models.CASCADE, related_name="nodes")
    name = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, default="junction")
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    invert = models.FloatField(null=True, blank=True)
    max_depth = models.FloatField(null=True, blank=True)
    grid = models.ForeignKey("geo.AreaNode", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")

    class Meta:
        ordering = ["model", "name"]
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="flood_node_once")]

    def __str__(self):
        return f"{self.model_id}:{self.name}"


class FloodRun(AreaScopedModel):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    class Source(models.TextChoices):
        UPLOAD = "upload", _("uploaded series")
        GAUGE = "gauge", _("rain gauge and scenario")

    model = models.ForeignKey(DrainageModel, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    source = models.CharField(max_length=8, choices=Source.choices)
    sensor_code = models.CharField(max_length=64, blank=True)
    scenario = models.CharField(max_length=120, blank=True)  # as stated: "+50 mm over 3 h"
    rainfall = models.JSONField()  # [[ISO time, mm/h], …], each held for step_s
    step_s = models.PositiveIntegerField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress = models.FloatField(default=0.0)  # 0..1, the engine's percent complete
    engine_pid = models.PositiveIntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    inp = models.TextField(blank=True)      # the input the engine was given
    report = models.TextField(blank=True)   # the engine's .rpt
    error = models.TextField(blank=True)
    error_lines = models.JSONField(default=list, blank=True)  # the .rpt's "ERROR nnn" lines
    results = models.JSONField(default=dict, blank=True)  # series: rain, flooding; totals
    warnings = models.JSONField(default=list, blank=True)  # numbers raised or changed

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="flood_run_status")]

    def __str__(self):
        return f"run {self.pk} of {self.model_id}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class FloodedNode(models.Model):
    """A node the run found flooding: how much, how long, how deep, what it threatens."""

    run = models.ForeignKey(FloodRun, on_delete=models.CASCADE, related_name="flooded")
    node = models.ForeignKey(ModelNode, on_delete=models.CASCADE, related_name="+")
    volume_m3 = models.FloatField()
    hours = models.FloatField()
    peak_depth_m = models.FloatField()
    peak_flow_m3s = models.FloatField()
    first_at = models.DateTimeField()
    peak_at = models.DateTimeField()
    level = models.PositiveSmallIntegerField(default=0)
    risk_points = models.JSONField(default=list, blank=True)  # codes within the radius
    warning = models.CharField(max_length=24, blank=True)     # the warning's number

    class Meta:
        ordering = ["run", "-volume_m3"]

    def __str__(self):
        return f"{self.run_id}:{self.node_id}"
