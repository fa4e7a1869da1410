"""Early warning (预警): the risk list, sensors and their readings, rules, warnings.

A risk point (风险点) belongs to a risk category and lies in a grid; its
responsible persons (责任人) are named by tier. Sensors report readings;
rules turn readings into levels (engine.py); a level above zero is an open
warning on the risk point, which reaches the responsible persons.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import AreaScopedModel


class Level(models.IntegerChoices):
    """China's colour levels: blue is level IV (the lowest), red is level I."""

    NONE = 0, _("none")
    BLUE = 1, _("blue (IV)")
    YELLOW = 2, _("yellow (III)")
    ORANGE = 3, _("orange (II)")
    RED = 4, _("red (I)")


LEVEL_COLOURS = {1: "blue", 2: "yellow", 3: "orange", 4: "red"}


class RiskCategory(models.Model):
    """A kind of risk the city watches (forest fire, landslide, hazardous chemicals …)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=64)            # zh-Hans
    name_en = models.CharField(_("English name"), max_length=128)
    cap_category = models.CharField(max_length=12, default="Other")  # CAP <category>
    case_category = models.CharField(max_length=40, default="production-safety")  # governance
    sensor_types = models.JSONField(default=list, blank=True)   # the sensor types it uses
    measures = models.JSONField(default=dict, blank=True)      # level -> {"zh": …, "en": …}
    source = models.TextField(blank=True)                       # where the category is defined
    assumed = models.TextField(blank=True)                      # what is not from a source

    class Meta:
        ordering = ["code"]
        verbose_name = _("risk category")
        verbose_name_plural = _("risk categories")

    def __str__(self):
        return self.name


class RiskPoint(AreaScopedModel):
    """A place on the risk list (风险点清单): a slope, a chemical store, a culvert."""

    class RiskLevel(models.IntegerChoices):
        LOW = 1, _("low")
        GENERAL = 2, _("general")
        LARGE = 3, _("large")
        MAJOR = 4, _("major")

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=128)
    category = models.ForeignKey(RiskCategory, on_delete=models.PROTECT, related_name="points")
    risk_level = models.PositiveSmallIntegerField(choices=RiskLevel.choices,
                                                  default=RiskLevel.GENERAL)
    description = models.TextField(blank=True)
    lon = models.FloatField()
    lat = models.FloatField()
    geometry = models.JSONField(null=True, blank=True)  # GeoJSON Polygon for an area; None: the point
    grid = models.ForeignKey("geo.AreaNode", on_delete=models.PROTECT, related_name="+")
    measures = models.JSONField(default=dict, blank=True)  # overrides the category's, by level
    synthetic = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("risk point")
        verbose_name_plural = _("risk points")

    def __str__(self):
        return f"{self.name} ({self.code})"


class ResponsiblePerson(models.Model):
    """Who answers for a risk point, by tier. A registry person with a contact: a
    login is optional (an SMS reaches them without one)."""

    class Tier(models.TextChoices):
        OWNER = "owner", _("the point's own owner")
        GRID = "grid", _("grid")
        STREET = "street", _("street")
        DISTRICT = "district", _("district")
        DEPARTMENT = "department", _("department")

    risk_point = models.ForeignKey(RiskPoint, on_delete=models.CASCADE,
                                   related_name="responsible")
    tier = models.CharField(max_length=12, choices=Tier.choices)
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    department = models.ForeignKey("accounts.Department", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["risk_point", "tier"]
        constraints = [models.UniqueConstraint(fields=["risk_point", "tier", "person"],
                                               name="responsible_once_per_tier")]

    def __str__(self):
        return f"{self.risk_point_id} {self.tier} {self.person_id}"


class Sensor(AreaScopedModel):
    """A device on a risk point; `code` is its id in MQTT topics and batches."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    risk_point = models.ForeignKey(RiskPoint, on_delete=models.PROTECT, related_name="sensors")
    sensor_type = models.CharField(_("type"), max_length=32)  # rainfall, displacement, …
    unit = models.CharField(_("unit"), max_length=16)
    interval_s = models.PositiveIntegerField(_("expected reporting interval (s)"), default=60)
    key_hash = models.CharField(max_length=64, blank=True)  # SHA-256 of the sensor's API key
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("sensor")
        verbose_name_plural = _("sensors")

    def __str__(self):
        return self.code


class Reading(models.Model):
    """One value of one sensor at one time; stored once (unique on sensor and time)
    and never changed."""

    # No database foreign key: its deferred check ran once per reading at commit
    # (1.4 s of 3.7 s for 30,000 readings); readings come only from readings_ingest,
    # whose sensors are known, and PROTECT still guards deletes through the ORM.
    sensor = models.ForeignKey(Sensor, on_delete=models.PROTECT, related_name="+",
                               db_index=False,  # the unique index leads with the sensor
                               db_constraint=False)
    at = models.DateTimeField()
    value = models.FloatField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sensor", "at"], name="reading_once")]

    def __str__(self):
        return f"{self.sensor_id} {self.at:%Y-%m-%d %H:%M:%S} {self.value}"


class Rule(models.Model):
    """Thresholds for a sensor type, narrowed to a risk category or one risk point;
    the most specific active rule applies (point, then category, then type)."""

    class Direction(models.TextChoices):
        ABOVE = "above", _("above")
        BELOW = "below", _("below")

    name = models.CharField(_("name"), max_length=128)
    sensor_type = models.CharField(_("sensor type"), max_length=32)
    category = models.ForeignKey(RiskCategory, null=True, blank=True, on_delete=models.CASCADE)
    risk_point = models.ForeignKey(RiskPoint, null=True, blank=True, on_delete=models.CASCADE)
    direction = models.CharField(max_length=5, choices=Direction.choices,
                                 default=Direction.ABOVE)
    raise_at = models.JSONField()                 # [blue, yellow, orange, red], null = unused
    clear_at = models.JSONField(null=True, blank=True)
    rate_raise = models.JSONField(null=True, blank=True)  # per minute
    rate_clear = models.JSONField(null=True, blank=True)
    duration_s = models.PositiveIntegerField(default=0)
    silent_after_s = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sensor_type", "name"]

    def __str__(self):
        return self.name


class SensorState(models.Model):
    """The rule engine's memory of one sensor (engine.RuleState's row), written in
    the transaction that stores the readings it has seen."""

    sensor = models.OneToOneField(Sensor, primary_key=True, on_delete=models.CASCADE,
                                  related_name="state")
    level = models.PositiveSmallIntegerField(default=0)
    since = models.JSONField(default=list)  # four times (epoch s) or nulls
    last_t = models.FloatField(null=True)
    last_x = models.FloatField(null=True)
    silent = models.BooleanField(default=False)
    rejected = models.PositiveIntegerField(default=0)  # bad readings, counted per sensor
    late = models.PositiveIntegerField(default=0)      # stored, not evaluated

    def __str__(self):
        return f"{self.sensor_id} at level {self.level}"


class Warning(AreaScopedModel):
    """An open or past warning on a risk point."""

    class Status(models.TextChoices):
        RAISED = "raised", _("raised")
        NOTIFIED = "notified", _("notified")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        HANDLING = "handling", _("handling")
        CLOSED = "closed", _("closed")
        CANCELLED = "cancelled", _("cancelled")

    class Source(models.TextChoices):
        RULE = "rule", _("a rule on sensor readings")
        FORECAST = "forecast", _("a model forecast")
        OPERATOR = "operator", _("an operator")

    OPEN = (Status.RAISED, Status.NOTIFIED, Status.ACKNOWLEDGED, Status.HANDLING)

    number = models.CharField(max_length=24, unique=True)
    risk_point = models.ForeignKey(RiskPoint, on_delete=models.PROTECT, related_name="warnings")
    sensor = models.ForeignKey(Sensor, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    peak_level = models.PositiveSmallIntegerField(choices=Level.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RAISED)
    condition = models.CharField(max_length=64)  # what raised it: "rule:<sensor>" …
    public = models.BooleanField(default=False)   # published in the CAP feed
    value = models.FloatField(null=True, blank=True)
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            # A repeat of the same condition updates the open warning, never opens a second.
            models.UniqueConstraint(fields=["condition"], name="warning_one_open_per_condition",
                                    condition=Q(status__in=["raised", "notified",
                                                            "acknowledged", "handling"])),
        ]
        indexes = [models.Index(fields=["area_path", "-raised_at"], name="warning_area_recent",
                                opclasses=["varchar_pattern_ops", "timestamptz_ops"])]

    def __str__(self):
        return self.number

    @property
    def colour(self) -> str:
        """The colour its current level is shown in; grey once the level is none."""
        return LEVEL_COLOURS.get(self.level, "grey")


class WarningEvent(models.Model):
    """The warning's timeline, written only through warning/events.py."""

    warning = models.ForeignKey(Warning, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24)
    level = models.PositiveSmallIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.warning_id} {self.kind}"

    def get_kind_display(self):
        from zhili.warning.events import KINDS

        return KINDS.get(self.kind, self.kind)


class CapMessage(models.Model):
    """Each CAP 1.2 message a public warning published, kept as sent: the feed and
    the alert URLs serve these bytes, and updates name their predecessors."""

    warning = models.ForeignKey(Warning, on_delete=models.PROTECT, related_name="cap_messages")
    identifier = models.CharField(max_length=80, unique=True)
    sent = models.DateTimeField()
    msg_type = models.CharField(max_length=8)  # Alert, Update, Cancel
    document = models.BinaryField()

    class Meta:
        ordering = ["-sent", "-id"]

    def __str__(self):
        return self.identifier
