"""The one map's own rows: grid workers' last known positions and the live event log.

The event log is what the live streams send (ids and kinds, never bodies) and
what a reconnecting client replays from its `Last-Event-ID`; a periodic job
prunes it (cockpit/tasks.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from zhili.core.scoping import AreaScopedModel


class WorkerPosition(AreaScopedModel):
    """A grid worker's last position, posted by their own phone; one row per worker.

    `area_path` is the worker's own area (where they hold their grid role), so an
    operator sees the workers of their area wherever they walk.
    """

    worker = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  primary_key=True, related_name="+")
    lon = models.FloatField()  # WGS84
    lat = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.worker_id} @ {self.lon:.5f},{self.lat:.5f}"


class LiveEvent(models.Model):
    """One change the live map should hear about; the id is the SSE event id."""

    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=24)  # case, warning, worker, resource, …
    object_id = models.CharField(max_length=40)
    area_path = models.CharField(max_length=96)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"{self.id} {self.kind}:{self.object_id}"

    def as_dict(self) -> dict:
        return {"seq": self.id, "kind": self.kind, "id": self.object_id, "path": self.area_path}
