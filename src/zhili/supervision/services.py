"""Supervision writes: each one transaction with its audit row."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.core.errors import FieldError, PermissionDenied, ValidationFailed
from zhili.supervision.kpis import kpi_problem
from zhili.supervision.models import ScoringRule, ScoringWeight

MANAGE_ASSESSMENTS = "supervision.manage_assessments"


def rollups_rebuild(*, actor, source_names=None) -> dict[str, int]:
    """Recompute the roll-ups from live data (the `zhili supervision rebuild` command)."""
    from zhili.supervision.rollups import rebuild

    written = rebuild(source_names)
    with transaction.atomic():
        audit_record(actor=actor, action="supervision.rollups_rebuild",
                     object_type="supervision.rollup", detail={"cells": written})
    return written


def _weights_checked(weights) -> list[dict]:
    """[{kpi, weight, worst, best}] checked; 422 naming each wrong entry."""
    if not isinstance(weights, list) or not weights:
        raise ValidationFailed({"weights": _("at least one KPI with its weight")})
    errors: list[FieldError] = []
    clean, seen = [], set()
    for i, w in enumerate(weights):
        where = f"weights[{i}]"
        if not isinstance(w, dict):
            errors.append(FieldError(where, _("must be an object with kpi, weight, worst, best")))
            continue
        code = w.get("kpi")
        problem = kpi_problem(code, scalar=True) if isinstance(code, str) else \
            _("must be a KPI code")
        if problem:
            errors.append(FieldError(f"{where}.kpi", problem))
        elif code in seen:
            errors.append(FieldError(f"{where}.kpi", _("named twice")))
        seen.add(code)
        try:
            weight = Decimal(str(w.get("weight")))
            if not weight.is_finite() or weight <= 0 or weight >= 10000:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.append(FieldError(f"{where}.weight", _("must be a number above 0")))
            continue
        try:
            worst, best = float(w.get("worst")), float(w.get("best"))
        except (TypeError, ValueError):
            errors.append(FieldError(f"{where}.best", _("worst and best must be numbers")))
            continue
        if worst == best or worst != worst or best != best:
            errors.append(FieldError(f"{where}.best", _("must differ from the value scoring 0")))
            continue
        clean.append({"kpi": code, "weight": weight.quantize(Decimal("0.01")),
                      "worst": worst, "best": best})
    if errors:
        raise ValidationFailed(errors)
    return clean


def scoring_rule_save(*, actor, code: str, name: str, name_en: str, level: str,
                      period: str = "month", weights, active: bool = True) -> ScoringRule:
    """Create or replace a scoring rule and its weights; a rule naming an unknown KPI
    (or one that is not a single number) is refused and nothing changes."""
    if actor is not None and not actor.covers_whole_city(MANAGE_ASSESSMENTS):
        raise PermissionDenied(_("Only the city may edit scoring rules."))
    errors = {}
    if not isinstance(code, str) or not code or len(code) > 48 or \
            not all(ch.isalnum() or ch in "-_" for ch in code):
        errors["code"] = _("letters, digits, - and _ only, at most 48")
    if not isinstance(name, str) or not name.strip() or len(name) > 96:
        errors["name"] = _("required, at most 96 characters")
    if not isinstance(name_en, str) or not name_en.strip() or len(name_en) > 128:
        errors["name_en"] = _("required, at most 128 characters")
    if level not in ScoringRule.Level.values:
        errors["level"] = _("must be street or district")
    if period not in ScoringRule.Period.values:
        errors["period"] = _("must be week or month")
    if errors:
        raise ValidationFailed(errors)
    clean = _weights_checked(weights)
    with transaction.atomic():
        rule, created = ScoringRule.objects.select_for_update().get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "level": level,
                                 "period": period, "active": active})
        if not created:
            rule.name, rule.name_en, rule.level, rule.period, rule.active = (
                name, name_en, level, period, active)
            rule.updated_at = timezone.now()
            rule.save()
            rule.weights.all().delete()
        ScoringWeight.objects.bulk_create([ScoringWeight(rule=rule, **w) for w in clean])
        audit_record(actor=actor, action="supervision.scoring_rule_save", obj=rule,
                     detail={"created": created, "weights": [
                         {**w, "weight": str(w["weight"])} for w in clean]})
    return rule
