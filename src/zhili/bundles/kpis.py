"""Bundled services' KPIs: what the supervision app rolls up, and the formulas.

An application counts in its applicant's area on the day (city time) it was
submitted. Materials saved compares the materials actually uploaded with what
its matters ask for one by one; time saved compares the days it took with its
matters' promised limits (working days, taken as 7/5 calendar days each). The
components are counts and sums, so sums over areas and days are exact;
bundles/metrics.py reads these KPIs from the supervision app's roll-ups.
"""

from __future__ import annotations

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from zhili.bundles import selectors
from zhili.core.plugins import Kpi, KpiSource, components_by_area_day

READS = "zhili.bundles.selectors"
DONE = Q(completed_at__isnull=False)

AGGREGATES = {
    "applications": Count("id"),
    "completed": Count("id", filter=DONE),
    "tasks": Sum("n_tasks"),
    "tasks_online": Sum("n_online"),
    "tasks_overdue": Sum("n_overdue"),
    "materials_separate": Sum("n_materials_separate"),
    "materials_uploaded": Sum("n_uploaded"),
    "materials_reused": Sum("n_reused"),
    "promised_days_completed": Sum("promised_days", filter=DONE),
    "elapsed_minutes_completed": Sum("elapsed", filter=DONE),
}


def _rows(area_path=None, start=None, end=None):
    return selectors.applications_for_rollup(area_path=area_path, start=start, end=end).annotate(
        elapsed=ExpressionWrapper(F("completed_at") - F("submitted_at"),
                                  output_field=DurationField()))


def components(area_path=None, start=None, end=None) -> dict:
    return components_by_area_day(_rows(area_path, start, end), "submitted_at", **AGGREGATES)


def changes(after_id: int, limit: int):
    return selectors.application_changes(after_id=after_id, limit=limit)


# --- formulas -------------------------------------------------------------------

def saved(c, part: str, whole: str) -> float | None:
    """1 − part ÷ whole: the share saved."""
    return round(1 - c.get(part, 0) / c[whole], 4) if c.get(whole) else None


def time_saved(c) -> float | None:
    promised_minutes = c.get("promised_days_completed", 0) * 7 / 5 * 1440
    if not promised_minutes:
        return None
    return round(1 - c.get("elapsed_minutes_completed", 0) / promised_minutes, 4)


def online_share(c) -> float | None:
    return round(c.get("tasks_online", 0) / c["tasks"], 4) if c.get("tasks") else None


def _kpi(code, name, formula, unit, better, value, empty="", headline=False):
    return Kpi(code=f"bundles.{code}", name=name, formula=formula, unit=unit, better=better,
               reads=READS, source="bundles.applications", value=value, empty=empty,
               headline=headline)


KPIS = [
    _kpi("applications", _("Bundled-service applications"),
         _("number of bundle applications submitted"), "count", "neither",
         lambda c: c.get("applications", 0), headline=True),
    _kpi("completed", _("Applications completed"),
         _("applications submitted in the period and completed since"), "count", "higher",
         lambda c: c.get("completed", 0)),
    _kpi("materials_saved", _("Materials saved"),
         _("1 − materials uploaded ÷ materials the matters ask for one by one"), "share",
         "higher", lambda c: saved(c, "materials_uploaded", "materials_separate"),
         _("no application asked for materials"), headline=True),
    _kpi("time_saved", _("Time saved"),
         _("1 − days taken ÷ promised days of the matters (working days × 7/5), over "
           "completed applications"), "share", "higher", time_saved,
         _("no application was completed")),
    _kpi("online_share", _("Online share"),
         _("matters that can be done fully online ÷ matters applied for"), "share", "higher",
         online_share, _("no application was submitted")),
    _kpi("overdue", _("Overdue matters"),
         _("matters flagged as past their due time to the lead department"), "count",
         "lower", lambda c: c.get("tasks_overdue", 0)),
]
KPIS_BY_CODE = {k.code: k for k in KPIS}
SOURCES = [KpiSource(name="bundles.applications", changes=changes, components=components)]
