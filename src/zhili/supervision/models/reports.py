"""Reports (报表): a series per (kind, area), its archived periods, runs and readers.

A `Report` is one period of a series: the figures it was made from (`data`,
so the HTML page reads the archived figures, not today's) and its files, a
PDF per language and a CSV of the long tables. Regenerating writes new files
first and swaps the row's file names in one transaction (`reports.pipeline`),
so a reader always gets a whole report. Each attempt is a `ReportRun`; a run
whose heartbeat stops (a killed worker) is marked failed by a sweep.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import AreaScopedModel
from zhili.supervision.kinds import KIND_CHOICES


class ReportSeries(AreaScopedModel):
    kind = models.CharField(max_length=32, choices=KIND_CHOICES)
    area = models.ForeignKey("geo.AreaNode", on_delete=models.PROTECT, related_name="+")
    # Told when a run fails.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "area"], name="one_series_per_area")]
        ordering = ["kind", "area_path"]

    def __str__(self):
        return f"{self.kind} {self.area_path}"


class Report(AreaScopedModel):
    series = models.ForeignKey(ReportSeries, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=32, choices=KIND_CHOICES, db_index=True)
    period_start = models.DateField()
    period_end = models.DateField()  # exclusive
    data = models.JSONField(default=dict)
    empty = models.BooleanField(default=False)  # no data for the area and period
    pdf_zh = models.CharField(max_length=200, blank=True)  # storage names
    pdf_en = models.CharField(max_length=200, blank=True)
    csv = models.CharField(max_length=200, blank=True)
    generated_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)
    run = models.ForeignKey("ReportRun", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "period_start"],
                                               name="one_report_per_period")]
        ordering = ["-period_start", "kind", "area_path"]

    def __str__(self):
        return f"{self.kind} {self.area_path} {self.period_start}"

    def pdf(self, language: str) -> str:
        return self.pdf_en if language.startswith("en") else self.pdf_zh


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("queued")  # asked for; its task has not started yet
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class ReportRun(models.Model):
    series = models.ForeignKey(ReportSeries, on_delete=models.CASCADE, related_name="runs")
    period_start = models.DateField()
    trigger = models.CharField(max_length=12, default="schedule")  # "schedule" | "manual"
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=RunStatus.choices,
                              default=RunStatus.RUNNING, db_index=True)
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)  # the technical detail, in English, for operators
    # Why it failed, for readers: an English msgid and its parameters, rendered in the
    # reader's language when read (`reason`), not in the worker's at the time of failure.
    error_msgid = models.TextField(blank=True)
    error_params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"run {self.pk} {self.status}"

    @property
    def reason(self) -> str:
        """Why the run failed, in the active language ("" when it did not)."""
        if not self.error_msgid:
            return self.error  # a run recorded before reasons were kept as msgids
        try:
            return gettext(self.error_msgid) % (self.error_params or {})
        except (KeyError, TypeError, ValueError):
            return self.error


class ReportSubscription(models.Model):
    series = models.ForeignKey(ReportSeries, on_delete=models.CASCADE,
                               related_name="subscriptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "user"],
                                               name="one_subscription_per_reader")]

    def __str__(self):
        return f"{self.user_id} → {self.series_id}"
