from django.db import models


class PeriodicSchedule(models.Model):
    """When each periodic job is next due. Claimed with a conditional UPDATE,
    so any number of workers enqueue each run exactly once. `spec` is the
    schedule the row was computed for ("every 60s", "daily 08:00"): when the
    code's schedule changes, the next run is recomputed (see periodic.enqueue_due)."""

    name = models.CharField(max_length=100, primary_key=True)
    next_due = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    spec = models.CharField(max_length=64, default="", blank=True)

    def __str__(self):
        return f"{self.name} (next {self.next_due:%Y-%m-%d %H:%M:%S})"
