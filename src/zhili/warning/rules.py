"""From the rules in the database to the engine's per-sensor parameters.

The most specific active rule for a sensor's type applies: one on its risk
point, else one on its risk category, else one on the type alone. The
resolved rows are kept per process and refreshed when any rule changes
(its `updated_at` or the number of rules), checked once per batch.
"""

from __future__ import annotations

import threading

from django.db.models import Count, Max

from zhili.warning.engine import RuleSet
from zhili.warning.models import Rule

_lock = threading.Lock()
_cache: dict = {"stamp": None, "rules": {}}


def _stamp():
    row = Rule.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    return row["n"], row["at"]


def rules_by_scope() -> dict[tuple, Rule]:
    stamp = _stamp()
    with _lock:
        if _cache["stamp"] != stamp:
            rules = {}
            for rule in Rule.objects.filter(active=True).order_by("id"):
                rules[(rule.sensor_type, rule.category_id, rule.risk_point_id)] = rule
            _cache.update(stamp=stamp, rules=rules)
        return _cache["rules"]


def rules_cache_clear(**_):
    with _lock:
        _cache.update(stamp=None, rules={})


def rule_for(rules: dict, sensor_type: str, category_id: int, risk_point_id: int) -> Rule | None:
    return (rules.get((sensor_type, None, risk_point_id))
            or rules.get((sensor_type, category_id, None))
            or rules.get((sensor_type, None, None)))


def rule_set_for(sensors: list) -> RuleSet:
    """A RuleSet whose row i is sensors[i]'s rule (no rule: never raises).
    Each sensor needs .sensor_type, .category_id and .risk_point_id."""
    rules = rules_by_scope()
    out = RuleSet.empty(len(sensors))
    for i, sensor in enumerate(sensors):
        rule = rule_for(rules, sensor.sensor_type, sensor.category_id, sensor.risk_point_id)
        if rule is None:
            continue
        out.set_rule(i, raise_at=rule.raise_at, clear_at=rule.clear_at,
                     direction=rule.direction, rate_raise=rule.rate_raise,
                     rate_clear=rule.rate_clear, duration_s=rule.duration_s,
                     silent_after_s=rule.silent_after_s)
    return out
