"""The demo's risk list and a plausible last six hours, replayed through ingest.

Six risk points in the demo district (a slope, an underpass, a rain gauge's
catchment, a gas station, a riverside gauge, a chemical store), their
responsible persons from the registry, sensors, and readings: a rainstorm
that peaks at orange and passes, an underpass that floods and opens a case,
a slope creeping past yellow, a gas alarm an operator cancels, a gauge that
fell silent. All synthetic, and marked so.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from django.utils import timezone

from zhili.warning.models import RiskPoint

POINTS = [
    # code, name, category, street index, sensors (code suffix, type)
    ("DEMO-RP-01", "鹅岭公园边坡", "landslide", 0, [("DISP", "displacement"), ("RAIN", "rainfall_1h")]),
    ("DEMO-RP-02", "两路口下穿道", "urban-waterlogging", 1, [("DEPTH", "water_depth")]),
    ("DEMO-RP-03", "大坪雨量站汇水区", "rainstorm", 2, [("RAIN", "rainfall_1h")]),
    ("DEMO-RP-04", "化龙桥加气站", "gas-network", 3, [("LEL", "gas_lel")]),
    ("DEMO-RP-05", "朝天门滨江水位站", "river-flood", 4, [("LEVEL", "water_level")]),
    ("DEMO-RP-06", "菜园坝化学品仓库", "hazardous-chemicals", 5, [("LEL", "gas_lel")]),
]
STEP = timedelta(minutes=10)
HOURS = 6


def seed(*, seed: int, log) -> None:
    from zhili.warning.catalogue import catalogue_seed

    made_categories, made_rules = catalogue_seed()
    if made_categories:
        log(f"  {made_categories} risk categories, {made_rules} default rules")
    if RiskPoint.objects.filter(code__startswith="DEMO-RP-").exists():
        log("  warning demo already seeded")
        return
    points = _risk_list(seed)
    if not points:
        log("  no grids with residents: warning demo not seeded")
        return
    counts = _history(points, random.Random(seed))
    log(f"  {len(points)} risk points, {sum(len(p.sensors.all()) for p in points)} sensors, "
        f"{counts['readings']} readings replayed, {counts['warnings']} warnings (synthetic)")


def _risk_list(seed: int) -> list[RiskPoint]:
    from zhili.geo.models import AreaNode, Level
    from zhili.registry.models import Person
    from zhili.warning.services import responsible_assign, risk_point_create, sensor_register

    rng = random.Random(seed)
    streets = list(AreaNode.objects.filter(level=Level.STREET).order_by("code"))
    points = []
    for code, name, category, street_index, sensors in POINTS:
        if not streets:
            break
        street = streets[street_index % len(streets)]
        grids = list(AreaNode.objects.filter(level=Level.GRID, path__startswith=street.path)
                     .order_by("code"))
        residents = []
        grid = None
        for candidate in rng.sample(grids, len(grids)):
            residents = list(Person.objects.filter(grid=candidate).order_by("id")[:3])
            if len(residents) >= 2 and candidate.centre_lon:
                grid = candidate
                break
        if grid is None:
            continue
        point = risk_point_create(actor=None, code=code, name=name, category=category,
                                  lon=grid.centre_lon, lat=grid.centre_lat,
                                  risk_level=rng.choice([2, 3, 4]), synthetic=True,
                                  description="演示数据 · synthetic demo risk point")
        responsible_assign(actor=None, risk_point=point, tier="owner", person=residents[0])
        responsible_assign(actor=None, risk_point=point, tier="grid", person=residents[1])
        for suffix, sensor_type in sensors:
            sensor_register(actor=None, risk_point=point, code=f"{code}-{suffix}",
                            sensor_type=sensor_type)
        points.append(point)
    return points


def _history(points, rng) -> dict:
    from zhili.warning.ingest import RawReading, readings_ingest
    from zhili.warning.models import Rule, Warning
    from zhili.warning.services import sensors_silent_check, warning_cancel

    # The riverside gauge needs its own lines (warning and guaranteed levels).
    river = next((p for p in points if p.code == "DEMO-RP-05"), None)
    if river is not None:
        Rule.objects.get_or_create(
            sensor_type="water_level", risk_point=river,
            defaults=dict(name="朝天门 warning levels", raise_at=[175.0, 178.0, 180.5, 183.5],
                          clear_at=[174.5, 177.5, 180.0, 183.0], silent_after_s=1800))
    now = timezone.now().replace(second=0, microsecond=0)
    start = now - timedelta(hours=HOURS)
    steps = int(HOURS * 3600 / STEP.total_seconds())
    readings = []
    for point in points:
        for sensor in point.sensors.all():
            for k in range(steps + 1):
                if sensor.code == "DEMO-RP-05-LEVEL" and k > steps - 12:
                    break  # the gauge falls silent two hours ago
                value = _value(sensor.sensor_type, point.code, k / steps, rng)
                readings.append(RawReading(sensor.code, (start + k * STEP).isoformat(), value))
    readings.sort(key=lambda r: r.at)
    # Replayed in ten-minute batches, as a consumer would have received them.
    by_time: dict[str, list] = {}
    for r in readings:
        by_time.setdefault(r.at, []).append(r)
    people = _People()
    for at, batch in by_time.items():
        readings_ingest(readings=batch, now=now)
        people.respond(datetime.fromisoformat(at))  # and the worker's sweeps of that minute
    sensors_silent_check(now=now)
    gas = Warning.objects.filter(condition="rule:DEMO-RP-04-LEL", status__in=Warning.OPEN).first()
    if gas is not None:
        warning_cancel(actor=None, warning=gas, reason="传感器标定误报 · sensor calibration")
    people.respond(now)
    return {"readings": len(readings), "warnings": Warning.objects.count()}


class _People:
    """What people and the worker did during the replay, minute by minute: messages reach
    their deliveries, the slope's owner acknowledges from the SMS link and reports the
    action taken, the rainstorm's grid tier acknowledges; the escalation sweep tells
    the next tier up where nobody answered in time (the flooded underpass)."""

    # risk point -> (tier that answers, after how long, the action reported)
    ANSWERS = {"DEMO-RP-01": ("owner", timedelta(minutes=8),
                              "已组织坡下两户临时撤离，设置警戒线 · two households below the "
                              "slope moved out, the area taped off"),
               "DEMO-RP-03": ("grid", timedelta(minutes=6), "")}

    def __init__(self):
        self.fanned_out: set[int] = set()

    def respond(self, at) -> None:
        from zhili.notifications.fanout import message_fanout_run
        from zhili.notifications.models import Message
        from zhili.notifications.selectors import deliveries_of
        from zhili.notifications.services import delivery_acknowledge
        from zhili.warning.handling import warning_action_report
        from zhili.warning.models import Warning
        from zhili.warning.reach import warnings_escalate_unacknowledged

        for pk in (Message.objects.filter(object_type="warning.warning")
                   .exclude(pk__in=self.fanned_out).values_list("pk", flat=True)):
            message_fanout_run(message_id=pk)
            self.fanned_out.add(pk)
        for code, (tier, delay, action) in self.ANSWERS.items():
            warning = (Warning.objects.filter(risk_point__code=code, status__in=Warning.OPEN,
                                              raised_at__lte=at - delay).first())
            if warning is None:
                continue
            person = (warning.risk_point.responsible.filter(tier=tier)
                      .values_list("person_id", flat=True).first())
            delivery = (deliveries_of(object_type="warning.warning", object_ids=[warning.pk])
                        .filter(person_id=person, channel="sms", acknowledged_at__isnull=True)
                        .order_by("id").first())
            if delivery is not None:
                delivery_acknowledge(delivery=delivery, via="link", now=at)
                if action and not warning.events.filter(kind="action_reported").exists():
                    warning_action_report(warning=warning, text=action, person_id=person, at=at)
        warnings_escalate_unacknowledged(now=at)


def _value(sensor_type: str, point: str, x: float, rng) -> float:
    """A plausible value at fraction x of the six hours (0 = six hours ago)."""
    storm = math.exp(-((x - 0.55) / 0.14) ** 2)  # a rainstorm peaking past halfway
    noise = rng.uniform(-1, 1)
    if sensor_type == "rainfall_1h":
        peak = 58 if point == "DEMO-RP-03" else 34
        return round(max(0.0, peak * storm + 1.5 * noise), 1)
    if sensor_type == "water_depth":  # the underpass floods after the rain's peak
        late = math.exp(-((x - 0.68) / 0.2) ** 2)
        return round(max(0.0, 46 * late + 2 * noise) if x < 0.98 else 30 + noise, 1)
    if sensor_type == "displacement":  # a slow creep that speeds up in the rain
        return round(4 + 30 * x ** 1.6 + 0.3 * noise, 2)
    if sensor_type == "gas_lel":
        spike = point == "DEMO-RP-04" and x > 0.9  # until an operator cancels it
        return round(28 + noise if spike else 2 + abs(noise), 1)
    if sensor_type == "water_level":
        return round(172 + 4 * storm + 0.1 * noise, 2)
    return round(noise, 2)
