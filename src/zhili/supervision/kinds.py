"""The eight reports (报表) and the eight problem lists (问题清单) that match them.

The "885" system: each report has a problem list of the same kind, so a
breach a report shows becomes a tracked problem on its list. `cadence` is the
period a report covers (a week from Monday, a calendar month) and `level` the
area it is made for on schedule (each street, each district, the city).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    cadence: str  # "week" | "month"
    level: str  # the geo level it is scheduled for: "street" | "district" | "city"


KINDS: dict[str, Kind] = {k.code: k for k in (
    Kind("grid_weekly", _("Grid governance weekly"), "week", "street"),
    Kind("dispute_monthly", _("Dispute resolution monthly"), "month", "district"),
    Kind("bundles_monthly", _("Bundled services monthly"), "month", "district"),
    Kind("warning_weekly", _("Early warning weekly"), "week", "district"),
    Kind("rescue_readiness", _("Rescue readiness"), "month", "district"),
    Kind("department_performance", _("Department performance"), "month", "city"),
    Kind("street_ranking", _("Street ranking"), "month", "district"),
    Kind("city_overview", _("City overview"), "month", "city"),
)}

KIND_CHOICES = [(k.code, k.label) for k in KINDS.values()]


def kind_label(code: str) -> str:
    kind = KINDS.get(code)
    return str(kind.label) if kind else code
