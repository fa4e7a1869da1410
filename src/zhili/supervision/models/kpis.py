"""Roll-up tables: additive KPI components per area and local day, and the cursors
of the pollers that keep them up to date (supervision/rollups.py)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RollupCell(models.Model):
    """One component (a count or sum) of one source for one area and day.

    `own` rows hold the entities whose own area is `area_path` (what a bucket
    refresh compares against); the others hold the whole subtree (what KPIs
    read: a district's month is its ~30 day rows).
    """

    source = models.CharField(max_length=48)
    area_path = models.CharField(max_length=96)
    own = models.BooleanField(default=False)
    day = models.DateField()
    component = models.CharField(max_length=64)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["area_path", "source", "own", "day", "component"], name="rollup_cell_once")]

    def __str__(self):
        return f"{self.source} {self.area_path} {self.day} {self.component}={self.value}"


class RollupCursor(models.Model):
    """How far a source's events table has been rolled up.

    `gap_since`: when the poller first met a gap in the ids after `last_id` (a
    transaction still open, or one rolled back); the gap is waited for a while,
    then skipped.
    """

    source = models.CharField(max_length=48, primary_key=True)
    last_id = models.BigIntegerField(default=0)
    gap_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.source} @ {self.last_id}"
