"""From the rules in the database to the engine's per-sensor parameters.

The most specific active rule for a sensor's type applies: one on its risk
point, else one on its risk category, else one on the type alone. The
resolved rows are kept per process and refreshed when any rule changes
(its `updated_at` or the number of rules), checked once per batch. Each rule
is compiled once into a row of parameters; a batch's RuleSet is then a
numpy take of those rows by each sensor's rule index (no per-sensor
`set_rule`, which cost more than the evaluation itself).
"""

from __future__ import annotations

import threading

import numpy as np
from django.db.models import Count, Max

from zhili.warning.engine import RuleSet
from zhili.warning.models import Rule

_lock = threading.Lock()
_cache: dict = {"stamp": None, "rules": {}, "table": None, "index": {}, "by_scope": {}}


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
            _cache.update(stamp=stamp, rules=rules, table=_table(rules), index={},
                          by_scope={id(rule): i for i, rule in enumerate(rules.values())})
        return _cache["rules"]


def _table(rules: dict) -> RuleSet:
    """Every rule compiled once: row i is the i-th rule, the last row "no rule"."""
    table = RuleSet.empty(len(rules) + 1)
    for i, rule in enumerate(rules.values()):
        table.set_rule(i, raise_at=rule.raise_at, clear_at=rule.clear_at,
                       direction=rule.direction, rate_raise=rule.rate_raise,
                       rate_clear=rule.rate_clear, duration_s=rule.duration_s,
                       silent_after_s=rule.silent_after_s)
    return table


def rules_cache_clear(**_):
    with _lock:
        _cache.update(stamp=None, rules={}, table=None, index={}, by_scope={})


def rule_for(rules: dict, sensor_type: str, category_id: int, risk_point_id: int) -> Rule | None:
    return (rules.get((sensor_type, None, risk_point_id))
            or rules.get((sensor_type, category_id, None))
            or rules.get((sensor_type, None, None)))


def rule_set_for(sensors: list) -> RuleSet:
    """A RuleSet whose row i is sensors[i]'s rule (no rule: never raises).
    Each sensor needs .sensor_type, .category_id and .risk_point_id."""
    rules_by_scope()
    with _lock:
        table, index, by_scope, rules = (_cache["table"], _cache["index"], _cache["by_scope"],
                                         _cache["rules"])
    none = table.size - 1
    rows = np.empty(len(sensors), dtype=np.intp)
    for i, sensor in enumerate(sensors):
        key = (sensor.sensor_type, sensor.category_id, sensor.risk_point_id)
        row = index.get(key)
        if row is None:
            rule = rule_for(rules, *key)
            row = index[key] = none if rule is None else by_scope[id(rule)]
        rows[i] = row
    return RuleSet(sign=table.sign[rows], raise_at=table.raise_at[rows],
                   clear_at=table.clear_at[rows], rate_raise=table.rate_raise[rows],
                   rate_clear=table.rate_clear[rows], duration_s=table.duration_s[rows],
                   silent_after_s=table.silent_after_s[rows])
