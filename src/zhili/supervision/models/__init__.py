"""Supervision's models, one module per part: kpis, assessments, reports, problem lists."""

from zhili.supervision.models.assessments import ScoringRule, ScoringWeight
from zhili.supervision.models.kpis import RollupCell, RollupCursor
from zhili.supervision.models.problems import (
    Problem,
    ProblemEvent,
    ProblemEvidence,
    ProblemRule,
    ProblemStatus,
)
from zhili.supervision.models.reports import (
    Report,
    ReportRun,
    ReportSeries,
    ReportSubscription,
    RunStatus,
)

__all__ = ["Problem", "ProblemEvent", "ProblemEvidence", "ProblemRule", "ProblemStatus",
           "Report", "ReportRun", "ReportSeries", "ReportSubscription", "RollupCell",
           "RollupCursor", "RunStatus", "ScoringRule", "ScoringWeight"]
