"""Warnings' writes: raised, moved between levels and cleared by rules; acknowledged,
handled, closed or cancelled by people. Each in its caller's transaction with
its timeline event and audit row.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core.errors import ApplicationError
from zhili.warning import events
from zhili.warning.cap.publish import cap_publish
from zhili.warning.models import RiskPoint, Warning
from zhili.warning.reach import warning_notify


class WarningNotOpen(ApplicationError):
    def __init__(self, number: str, status: str):
        ApplicationError.__init__(self, detail=_("Warning %(n)s is %(s)s, not open.")
                                  % {"n": number, "s": status},
                                  code="warning-not-open", status=409,
                                  title="The warning is not open")


def warning_number(now) -> str:
    """`YJ` (预警) + local date + 8 random characters."""
    local = timezone.localtime(now)
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return f"YJ{local:%Y%m%d}" + "".join(secrets.choice(alphabet) for _ in range(8))


def case_level() -> int:
    """Warnings at or above this level open a case on the risk point's grid (default orange)."""
    return int(getattr(settings, "ZHILI_WARNING_CASE_LEVEL", 3))


def public_level() -> int:
    """Warnings at or above this level are public (the CAP feed); default yellow."""
    return int(getattr(settings, "ZHILI_WARNING_PUBLIC_LEVEL", 2))


def warnings_apply(*, report, now) -> None:
    """Turn the rule engine's transitions into warnings (inside ingest's transaction)."""
    touched = []
    for sensor, t, _old, new, value in report.transitions:
        at = datetime.fromtimestamp(t, UTC)
        condition = f"rule:{sensor.code}"
        warning = (Warning.objects.select_for_update()
                   .filter(condition=condition, status__in=Warning.OPEN).first())
        if new == 0:
            if warning is not None:
                warning_clear(warning=warning, at=at, value=value)
                touched.append(warning.number)
            continue
        if warning is None:
            point = RiskPoint.objects.get(pk=sensor.risk_point_id)
            warning = warning_raise(risk_point=point, level=new, source=Warning.Source.RULE,
                                    condition=condition, sensor_id=sensor.id, value=value, at=at,
                                    data={"sensor": sensor.code, "value": value})
        else:
            warning_level_change(warning=warning, level=new, at=at, value=value)
        touched.append(warning.number)
    report.warnings = list(dict.fromkeys(touched))


def warning_raise(*, risk_point, level: int, source: str, condition: str, at=None,
                  sensor_id: int | None = None, value: float | None = None, actor=None,
                  note: str = "", data: dict | None = None) -> Warning:
    at = at or timezone.now()
    with transaction.atomic():
        warning = Warning.objects.create(
            number=warning_number(at), risk_point=risk_point, sensor_id=sensor_id, source=source,
            level=level, peak_level=level, condition=condition[:64], value=value,
            public=level >= public_level(), raised_at=at, area_path=risk_point.area_path)
        events.event_add(warning=warning, kind="raised", actor=actor, note=note, data=data, at=at)
        audit_record(actor=actor, action="warning.raise", obj=warning,
                     detail={"level": level, "source": source, "condition": condition})
        _after_level(warning, at)
        warning_notify(warning=warning, at=at)
        if warning.public:
            cap_publish(warning, now=at)
    return warning


def warning_level_change(*, warning: Warning, level: int, at=None, value=None, actor=None,
                         note: str = "") -> Warning:
    at = at or timezone.now()
    if warning.status not in Warning.OPEN:
        raise WarningNotOpen(warning.number, warning.status)
    if level == warning.level:
        return warning
    kind = "level_up" if level > warning.level else "level_down"
    before = warning.level
    warning.level = level
    warning.peak_level = max(warning.peak_level, level)
    warning.public = warning.public or level >= public_level()
    warning.value = value if value is not None else warning.value
    warning.version += 1
    warning.save(update_fields=["level", "peak_level", "public", "value", "version"])
    events.event_add(warning=warning, kind=kind, actor=actor, note=note, at=at,
                     data={"from": before, "to": level, "value": value})
    audit_record(actor=actor, action=f"warning.{kind}", obj=warning,
                 detail={"from": before, "to": level})
    _after_level(warning, at)
    if kind == "level_up":
        warning_notify(warning=warning, at=at)
    if warning.public:
        cap_publish(warning, now=at)
    return warning


def warning_clear(*, warning: Warning, at=None, value=None) -> Warning:
    """The condition is gone (the rule's level fell to none): the warning closes."""
    at = at or timezone.now()
    warning.level = 0
    warning.status = Warning.Status.CLOSED
    warning.cleared_at = warning.closed_at = at
    warning.version += 1
    warning.save(update_fields=["level", "status", "cleared_at", "closed_at", "version"])
    events.event_add(warning=warning, kind="cleared", level=0, at=at, data={"value": value})
    audit_record(actor=None, action="warning.clear", obj=warning)
    if warning.cap_messages.exists():
        cap_publish(warning, all_clear=True, now=at)
    return warning


def warning_cancel(*, actor, warning: Warning, reason: str, at=None) -> Warning:
    """An operator withdraws a warning raised in error; a public one gets a CAP Cancel."""
    from zhili.core.errors import FieldError, ValidationFailed

    reason = (reason or "").replace("\x00", "").strip()
    if len(reason) < 4:
        raise ValidationFailed([FieldError("reason", _("say why the warning is cancelled"))])
    at = at or timezone.now()
    with transaction.atomic():
        warning = Warning.objects.select_for_update().get(pk=warning.pk)
        if warning.status not in Warning.OPEN:
            raise WarningNotOpen(warning.number, warning.status)
        warning.status = Warning.Status.CANCELLED
        warning.closed_at = at
        warning.version += 1
        warning.save(update_fields=["status", "closed_at", "version"])
        events.event_add(warning=warning, kind="cancelled", actor=actor, note=reason[:500], at=at)
        audit_record(actor=actor, action="warning.cancel", obj=warning, detail={"reason": reason[:500]})
        if warning.cap_messages.exists():
            cap_publish(warning, msg_type="Cancel", now=at)
    return warning


def _after_level(warning: Warning, at) -> None:
    """What a level reached brings: a governance case at the case level."""
    if warning.level >= case_level():
        _case_open(warning, at)


def _case_open(warning: Warning, at) -> None:
    from zhili.governance.models import Case
    from zhili.governance.services import case_report

    point = warning.risk_point
    key = f"warning:{warning.pk}"
    if Case.objects.filter(intake_key=key, intake_scope="warning").exists():
        return
    case, _created = case_report(
        actor=None, category=point.category.case_category,
        description=_("Warning %(n)s at %(p)s: level %(l)s. Check on site and act on the "
                      "handling measures.") % {"n": warning.number, "p": point.name,
                                               "l": warning.get_level_display()},
        lon=point.lon, lat=point.lat, channel="system", idempotency_key=key,
        idempotency_scope="warning", attributes={"warning": warning.number}, now=at)
    events.event_add(warning=warning, kind="case_opened", at=at,
                     data={"case": case.tracking_no})




# ---------------------------------------------------------------- the risk list and sensors
def _grid_of(lon: float, lat: float):
    from zhili.core.errors import OutsideCity
    from zhili.geo.index import get_index
    from zhili.geo.models import AreaNode

    found = get_index().locate(lon, lat)
    if found is None:
        raise OutsideCity(_("No grid of the city holds (%(lon).6f, %(lat).6f).")
                          % {"lon": lon, "lat": lat})
    return AreaNode.objects.get(pk=found.grid_id)


def risk_point_create(*, actor, code: str, name: str, category, lon: float, lat: float,
                      risk_level: int = 2, description: str = "", geometry: dict | None = None,
                      synthetic: bool = False) -> RiskPoint:
    """Put a place on the risk list, located to its grid."""
    from zhili.warning.models import RiskCategory

    category = category if isinstance(category, RiskCategory) else \
        RiskCategory.objects.get(code=category)
    grid = _grid_of(lon, lat)
    with transaction.atomic():
        point = RiskPoint.objects.create(
            code=code, name=name, category=category, risk_level=risk_level,
            description=description, lon=lon, lat=lat, geometry=geometry, grid=grid,
            area_path=grid.path, synthetic=synthetic)
        audit_record(actor=actor, action="risk_point.create", obj=point)
    return point


def sensor_key_hash(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()


def sensor_register(*, actor, risk_point: RiskPoint, code: str, sensor_type: str,
                    interval_s: int = 60) -> tuple[object, str]:
    """Register a sensor on a risk point; returns (sensor, its API key). The key is
    shown once; only its hash is kept."""
    from zhili.warning.catalogue import SENSOR_TYPE_BY_CODE
    from zhili.warning.models import Sensor

    kind = SENSOR_TYPE_BY_CODE.get(sensor_type)
    if kind is None:
        from zhili.core.errors import FieldError, ValidationFailed

        raise ValidationFailed([FieldError("sensor_type", _("unknown sensor type"))])
    key = "zs_" + secrets.token_urlsafe(24)
    with transaction.atomic():
        sensor = Sensor.objects.create(
            code=code, risk_point=risk_point, sensor_type=sensor_type, unit=kind.unit,
            interval_s=interval_s, key_hash=sensor_key_hash(key), area_path=risk_point.area_path)
        audit_record(actor=actor, action="sensor.register", obj=sensor)
    return sensor, key


# ---------------------------------------------------------------- silent sensors
SILENT_CHUNK = 10_000


def sensors_silent_check(*, now=None) -> int:
    """The silent-sensor rule over every active sensor, a chunk at a time: a sensor
    whose rule allows `silent_after_s` without a reading and has had none for
    longer gets one blue warning ("silent:<code>"); its next reading closes it
    (ingest). Safe to run again: a sensor is marked silent once. Returns how many
    went silent."""

    from zhili.warning import engine
    from zhili.warning.engine import RuleState
    from zhili.warning.ingest import SensorInfo, sensor_states_lock
    from zhili.warning.models import Sensor, SensorState
    from zhili.warning.rules import rule_set_for

    now = now or timezone.now()
    moment = now.timestamp()
    silent = 0
    last_id = 0
    while True:
        rows = list(Sensor.objects.filter(active=True, id__gt=last_id).order_by("id")
                    .values_list("id", "code", "sensor_type", "risk_point__category_id",
                                 "risk_point_id", "area_path", "active", "key_hash",
                                 "created_at")[:SILENT_CHUNK])
        if not rows:
            return silent
        last_id = rows[-1][0]
        infos = [SensorInfo(*row[:8]) for row in rows]
        with transaction.atomic():
            # Set-based: the chunk's states locked in one statement (created only where
            # missing), the newly silent marked in one UPDATE, their open warnings and
            # risk points read in one query each; then one warning_raise per sensor.
            states = {row[0]: row for row in sensor_states_lock([s.id for s in infos])}
            rules = rule_set_for(infos)
            state = RuleState.empty(len(infos))
            for i, (info, row) in enumerate(zip(infos, rows, strict=True)):
                _, _, _, last_t, _, was_silent = states[info.id]
                # A sensor that never reported is timed from its registration (kept
                # only here: last_t is the rules' clock and must stay a reading's time).
                state.last_t[i] = row[8].timestamp() if last_t is None else last_t
                state.silent[i] = was_silent
            went = [infos[i] for i in engine.silent_sensors(rules, state, moment).tolist()]
            if not went:
                continue
            SensorState.objects.filter(sensor_id__in=[s.id for s in went]).update(silent=True)
            told = set(Warning.objects.filter(condition__in=[f"silent:{s.code}" for s in went],
                                              status__in=Warning.OPEN)
                       .values_list("condition", flat=True))
            went_new = [s for s in went if f"silent:{s.code}" not in told]
            points = RiskPoint.objects.in_bulk({s.risk_point_id for s in went_new})
            for info in went_new:
                warning_raise(risk_point=points[info.risk_point_id], level=1,
                              source=Warning.Source.RULE, condition=f"silent:{info.code}",
                              sensor_id=info.id, at=now,
                              data={"sensor": info.code, "silent": True})
            silent += len(went)


def sensor_resumed(*, sensor_code: str, at) -> None:
    """A reading from a silent sensor closes its silent warning."""
    warning = (Warning.objects.select_for_update()
               .filter(condition=f"silent:{sensor_code}", status__in=Warning.OPEN).first())
    if warning is not None:
        warning_clear(warning=warning, at=at)


def responsible_assign(*, actor, risk_point: RiskPoint, tier: str, person, user=None,
                       department=None):
    """Name a responsible person of a risk point for a tier (idempotent)."""
    from zhili.warning.models import ResponsiblePerson

    with transaction.atomic():
        row, created = ResponsiblePerson.objects.get_or_create(
            risk_point=risk_point, tier=tier, person=person,
            defaults={"user": user, "department": department})
        if created:
            audit_record(actor=actor, action="risk_point.responsible_assign", obj=risk_point,
                         detail={"tier": tier, "person": person.pk})
    return row


def risk_point_update(*, actor, code: str, name: str, category, lon: float, lat: float,
                      risk_level: int = 2, description: str = "",
                      geometry: dict | None = None) -> RiskPoint:
    """Change a risk point's details or place (re-located to its grid)."""
    grid = _grid_of(lon, lat)
    with transaction.atomic():
        point = RiskPoint.objects.select_for_update().get(code=code)
        before = {"name": point.name, "category": point.category_id, "level": point.risk_level,
                  "grid": point.grid_id}
        point.name, point.category, point.risk_level = name, category, risk_level
        point.description, point.lon, point.lat, point.geometry = description, lon, lat, geometry
        point.grid, point.area_path, point.updated_at = grid, grid.path, timezone.now()
        point.save()
        audit_record(actor=actor, action="risk_point.update", obj=point, detail={"before": before})
    return point


def rule_check(rule) -> None:
    """The engine's own rule check (a clear line past its raise line, levels out of
    order, not four levels), as ValidationFailed."""
    from zhili.core.errors import FieldError, ValidationFailed
    from zhili.warning.engine import RuleSet

    try:
        RuleSet.empty(1).set_rule(0, raise_at=rule.raise_at, clear_at=rule.clear_at,
                                  direction=rule.direction, rate_raise=rule.rate_raise,
                                  rate_clear=rule.rate_clear, duration_s=rule.duration_s)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed([FieldError("raise_at", str(exc))]) from None
    if rule.category_id and rule.risk_point_id:
        raise ValidationFailed([FieldError("risk_point",
                                           _("a rule narrows to a category or to a point, not both"))])


def rule_save(*, actor, rule, changed: list[str] | None = None):
    """Create or change a rule, checked (rule_check) and audited."""
    rule_check(rule)
    with transaction.atomic():
        created = rule.pk is None
        rule.updated_at = timezone.now()
        rule.save()
        audit_record(actor=actor, action="rule.create" if created else "rule.change", obj=rule,
                     detail={"changed": changed or []})
    return rule
