"""Supervision's models, one module per sub-domain (re-exported here)."""

from zhili.supervision.models.problems import (  # noqa: F401
    Problem,
    ProblemEvent,
    ProblemEvidence,
    ProblemRule,
    ProblemStatus,
)
from zhili.supervision.models.reports import (  # noqa: F401
    Report,
    ReportRun,
    ReportSeries,
    ReportSubscription,
    RunStatus,
)
