"""The demo's grid workers on the map: a last known position for each, near their grid's
centre (synthetic), one of them stale, reported through the real service."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from zhili.cockpit.models import WorkerPosition
from zhili.core.errors import ApplicationError


def seed(*, seed: int, log) -> None:
    from zhili.accounts.models import RoleAssignment
    from zhili.cockpit.services import position_report

    if WorkerPosition.objects.exists():
        log("  cockpit demo already seeded")
        return
    rng = random.Random(seed)
    rows = (RoleAssignment.objects.filter(role="grid_worker", user__is_active=True)
            .select_related("user", "area").order_by("user__username"))
    now = timezone.now()
    made = 0
    for i, assignment in enumerate(rows[:50]):
        centre = assignment.area.shape.representative_point()
        lon = centre.x + rng.uniform(-0.0004, 0.0004)
        lat = centre.y + rng.uniform(-0.0004, 0.0004)
        at = now - (timedelta(hours=2) if i % 7 == 6 else timedelta(minutes=rng.uniform(0, 5)))
        try:
            position_report(actor=assignment.user, lon=lon, lat=lat, accuracy_m=15, now=at)
        except ApplicationError as exc:  # a centre the locate index does not place
            log(f"  no position for {assignment.user}: {exc}")
            continue
        made += 1
    log(f"  {made} grid workers' last positions (synthetic)")
