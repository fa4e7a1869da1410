"""Assessments: scoring rules that weight KPIs into a score per street or district."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ScoringRule(models.Model):
    class Level(models.TextChoices):
        STREET = "street", _("Street / town")
        DISTRICT = "district", _("District / county")

    class Period(models.TextChoices):
        WEEK = "week", _("Week")
        MONTH = "month", _("Month")

    code = models.SlugField(max_length=48, unique=True)
    name = models.CharField(_("name"), max_length=96)
    name_en = models.CharField(_("English name"), max_length=128)
    level = models.CharField(_("scored level"), max_length=10, choices=Level.choices)
    period = models.CharField(_("period"), max_length=6, choices=Period.choices,
                              default=Period.MONTH)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class ScoringWeight(models.Model):
    """One KPI's part of a rule's score: its value scaled to 0–100 between `worst`
    and `best`, times `weight` (weights are normalised by their sum)."""

    rule = models.ForeignKey(ScoringRule, on_delete=models.CASCADE, related_name="weights")
    kpi = models.CharField(_("KPI code"), max_length=64)
    weight = models.DecimalField(max_digits=6, decimal_places=2)
    worst = models.FloatField(_("value scoring 0"))
    best = models.FloatField(_("value scoring 100"))

    class Meta:
        ordering = ["rule", "id"]
        constraints = [models.UniqueConstraint(fields=["rule", "kpi"], name="weight_once")]

    def __str__(self):
        return f"{self.rule_id}: {self.kpi} × {self.weight}"

    def clean(self):
        # The admin form's check; services.scoring_rule_save checks the same for the API.
        from zhili.supervision.kpis import kpi_problem

        problem = kpi_problem(self.kpi, scalar=True)
        if problem:
            raise ValidationError({"kpi": problem})
        if self.weight is not None and self.weight <= 0:
            raise ValidationError({"weight": _("must be greater than 0")})
        if self.worst is not None and self.best is not None and self.worst == self.best:
            raise ValidationError({"best": _("must differ from the value scoring 0")})
