"""Supervision's models, one module per part (kpis and assessments here; reports and
problem lists in their own modules)."""

from zhili.supervision.models.assessments import ScoringRule, ScoringWeight
from zhili.supervision.models.kpis import RollupCell, RollupCursor

__all__ = ["RollupCell", "RollupCursor", "ScoringRule", "ScoringWeight"]
