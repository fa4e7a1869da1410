"""The figures of each of the eight reports, for one area and period.

A builder reads the other apps through their scoped selectors as the area
(`AreaReader`) and returns plain JSON: the archive keeps it with the report,
so a report shows the figures it was made from, whichever day it is read.
Every label is stored in both languages ({"zh": …, "en": …}) so the page,
the PDF and the CSV speak the reader's language without the builder again.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from zhili.supervision import periods as P
from zhili.supervision.areas import AreaReader
from zhili.supervision.kinds import KINDS

TABLE_ROWS_IN_PDF = 25  # longer tables go along in the CSV


def both(text) -> dict:
    """A lazy text (or a (zh, en) pair of names) in both languages."""
    if isinstance(text, tuple):
        zh, en = text
        return {"zh": zh, "en": en or zh}
    out = {}
    for lang, key in (("zh-hans", "zh"), ("en", "en")):
        with translation.override(lang):
            out[key] = str(text)
    return out


def area_name(area) -> dict:
    return both((area.name, area.name_en))


class Report:
    """The builder's notebook: figures, charts, tables, notes."""

    def __init__(self, kind: str, area, cadence: str, start: date):
        end = P.period_end(cadence, start)
        self.data = {
            "kind": kind, "title": both(KINDS[kind].label),
            "area": {"code": area.code, "name": area_name(area), "level": area.level},
            "period": {"cadence": cadence, "start": start.isoformat(), "end": end.isoformat()},
            "empty": False, "empty_reason": None,
            "figures": [], "charts": [], "tables": [], "notes": [],
        }

    def figure(self, label, value, unit: str = "count", reason: dict | None = None):
        self.data["figures"].append({"label": both(label), "value": value, "unit": unit,
                                     "reason": reason})

    def chart(self, label, bars: list[tuple[dict, float]], unit: str = "count"):
        self.data["charts"].append({"label": both(label), "unit": unit,
                                    "bars": [[name, value] for name, value in bars]})

    def table(self, label, columns: list, rows: list[list]):
        self.data["tables"].append({"label": both(label), "columns": [both(c) for c in columns],
                                    "rows": rows})

    def note(self, text):
        self.data["notes"].append(both(text))

    def nothing(self, reason):
        self.data["empty"] = True
        self.data["empty_reason"] = both(reason)


def _cases(area, cadence, start):
    from zhili.governance.figures import case_figures
    from zhili.governance.selectors import CaseFilters

    begin, end = P.bounds(cadence, start)
    return case_figures(actor=AreaReader(area), filters=CaseFilters(created_from=begin,
                                                                    created_to=end))


def _children(area):
    from zhili.geo.models import AreaNode

    return list(AreaNode.objects.filter(parent=area).defer("geometry").order_by("code"))


def _status_bars(figures) -> list:
    from zhili.governance.models import Status

    return [(both(label), figures["by_status"].get(value, 0)) for value, label in Status.choices
            if figures["by_status"].get(value, 0)]


UNITS = {"share": "share", "minutes": "minutes", "rating": "score"}
CASE_HEADLINE = ["governance.cases", "governance.open_cases", "governance.on_time_accept",
                 "governance.on_time_resolve", "governance.median_handling",
                 "governance.resolved_street_or_below", "governance.escalated",
                 "governance.satisfaction", "governance.reopen_rate"]


def kpi_figures(r: Report, codes: list[str], area, cadence: str, start: date) -> dict:
    """The KPIs as the report's figures (from the registry's roll-ups); {code: value}."""
    from zhili.supervision.selectors import kpi_values

    values = kpi_values(codes, area, cadence, start)
    for code in codes:
        v = values[code]
        r.figure(v.kpi.name, v.value, UNITS.get(v.kpi.unit, "count"),
                 reason=None if v.value is not None else
                 (both(v.kpi.empty) if v.kpi.empty else both((v.reason, v.reason))))
    return {code: values[code].value for code in codes}


def grid_weekly(area, cadence, start) -> dict:
    r = Report("grid_weekly", area, cadence, start)
    f = _cases(area, cadence, start)
    if not f["total"]:
        r.nothing(_("No cases were reported in this area in this period."))
        return r.data
    kpi_figures(r, CASE_HEADLINE, area, cadence, start)
    r.chart(_("Cases by status"), _status_bars(f))
    r.table(_("Cases by area"), [_("Area"), _("Code"), _("Cases")],
            [[row["name"], row["code"], row["count"]] for row in f["by_area"]])
    r.table(_("Cases by category"), [_("Category"), _("Cases")],
            [[c["name"], c["count"]]
             for c in f["by_category"]])
    return r.data


def dispute_monthly(area, cadence, start) -> dict:
    from zhili.governance.models import ResolutionLevel

    r = Report("dispute_monthly", area, cadence, start)
    d = _cases(area, cadence, start)["disputes"]
    if not d["total"]:
        r.nothing(_("No disputes were recorded in this area in this period."))
        return r.data
    kpi_figures(r, ["governance.disputes", "governance.disputes_street_or_below"], area,
                cadence, start)
    r.figure(_("Disputes resolved"), d["resolved"])
    r.chart(_("Where disputes were resolved"),
            [(both(label), d["by_level"].get(value, 0)) for value, label in
             ResolutionLevel.choices])
    return r.data


BUNDLE_KPIS = ["bundles.applications", "bundles.completed", "bundles.materials_saved",
               "bundles.time_saved", "bundles.online_share", "bundles.overdue"]


def bundles_monthly(area, cadence, start) -> dict:
    """The bundles KPIs of the area's applications in the month, from the roll-ups."""
    from zhili.supervision.selectors import kpi_values

    r = Report("bundles_monthly", area, cadence, start)
    counts = kpi_values(["bundles.applications", "bundles.completed"], area, cadence, start)
    submitted, completed = (counts[c].value or 0 for c in ("bundles.applications",
                                                            "bundles.completed"))
    if not submitted:
        r.nothing(_("No bundled-service applications were submitted in this area in this "
                    "period."))
        return r.data
    kpi_figures(r, BUNDLE_KPIS, area, cadence, start)
    r.chart(_("Applications submitted and completed"),
            [(both(_("submitted")), submitted), (both(_("completed")), completed)])
    r.note(_("Applications count in the applicant's area on the day they were submitted; "
             "those completed since count as completed."))
    return r.data


def warning_weekly(area, cadence, start) -> dict:
    from zhili.warning.models import Level, WarningEvent
    from zhili.warning.selectors import warning_list

    r = Report("warning_weekly", area, cadence, start)
    begin, end = P.bounds(cadence, start)
    rows = warning_list(actor=AreaReader(area), status="all").filter(raised_at__gte=begin,
                                                                     raised_at__lt=end)
    events = WarningEvent.objects
    rows = rows.annotate(acked=Exists(events.filter(warning=OuterRef("pk"), kind="acknowledged")),
                         escalated=Exists(events.filter(warning=OuterRef("pk"),
                                                        kind="escalated")))
    total = rows.count()
    if not total:
        r.nothing(_("No warnings were raised in this area in this period."))
        return r.data
    acked = rows.filter(acked=True).count()
    r.figure(_("Warnings raised"), total)
    r.figure(_("Acknowledged"), round(acked / total, 4), "share")
    r.figure(_("Escalated: not acknowledged in time"), rows.filter(escalated=True).count())
    by_level = dict(rows.order_by().values_list("peak_level").annotate(n=Count("id")))
    r.chart(_("Warnings by highest level"),
            [(both(label), by_level.get(value, 0)) for value, label in Level.choices if value])
    r.table(_("Warnings"), [_("Number"), _("Risk point"), _("Highest level"), _("Raised")],
            [[w.number, w.risk_point.name, w.peak_level, w.raised_at.isoformat()]
             for w in rows.order_by("raised_at")[:5000]])
    return r.data


def rescue_readiness(area, cadence, start) -> dict:
    from zhili.warning.selectors import risk_points_geojson

    r = Report("rescue_readiness", area, cadence, start)
    points = risk_points_geojson(actor=AreaReader(area))["features"]
    if not points:
        r.nothing(_("No risk points or rescue resources are recorded in this area."))
        return r.data
    kpi_figures(r, ["supervision.rescue_coverage"], area, cadence, start)
    by_level: dict[int, int] = {}
    for p in points:
        by_level[p["properties"]["risk_level"]] = by_level.get(p["properties"]["risk_level"], 0) + 1
    r.figure(_("Risk points to cover"), len(points))
    r.figure(_("Risk points under an open warning"),
             sum(1 for p in points if p["properties"]["warning_level"]))
    r.chart(_("Risk points by risk level"), [(both((str(k), str(k))), v)
                                             for k, v in sorted(by_level.items())])
    r.note(_("Rescue-circle coverage comes from the emergency app once it computes it; until "
             "then this report lists what must be covered."))
    return r.data


def department_performance(area, cadence, start) -> dict:
    from zhili.governance.selectors import CaseFilters, case_list

    r = Report("department_performance", area, cadence, start)
    begin, end = P.bounds(cadence, start)
    cases = case_list(actor=AreaReader(area), filters=CaseFilters(created_from=begin,
                                                                  created_to=end)).order_by()
    rows = list(cases.exclude(department_tasks__isnull=True)
                .values("department_tasks__department__name",
                        "department_tasks__department__name_en")
                .annotate(tasks=Count("department_tasks"),
                          done=Count("department_tasks",
                                     filter=Q(department_tasks__status="done")))
                .order_by("-tasks"))
    if not rows:
        r.nothing(_("No case was routed to a department in this area in this period."))
        return r.data
    tasks = sum(x["tasks"] for x in rows)
    done = sum(x["done"] for x in rows)
    r.figure(_("Department tasks"), tasks)
    r.figure(_("Completed"), round(done / tasks, 4) if tasks else None, "share")
    r.chart(_("Tasks by department"),
            [(both((x["department_tasks__department__name"],
                    x["department_tasks__department__name_en"])), x["tasks"]) for x in rows[:12]])
    r.table(_("Departments"), [_("Department"), _("Tasks"), _("Completed")],
            [[x["department_tasks__department__name"], x["tasks"], x["done"]] for x in rows])
    return r.data


def street_ranking(area, cadence, start) -> dict:
    from zhili.supervision.selectors import kpi_by_area

    r = Report("street_ranking", area, cadence, start)
    streets = {s.path: s for s in _children(area)}
    paths = list(streets)
    cases = kpi_by_area("governance.cases", paths, cadence, start)
    on_time = kpi_by_area("governance.on_time_resolve", paths, cadence, start)
    rating = kpi_by_area("governance.satisfaction", paths, cadence, start)
    rows = [p for p in paths if cases[p].value]
    if not rows:
        r.nothing(_("No cases were reported in this area's streets in this period."))
        return r.data

    def key(path):
        rate, sat = on_time[path].value, rating[path].value
        return (-(rate if rate is not None else -1), -(sat or 0), path)

    rows.sort(key=key)
    r.figure(_("Streets ranked"), len(rows))
    r.chart(_("Resolved on time, by street"),
            [(area_name(streets[p]), on_time[p].value or 0) for p in rows[:15]], "share")
    r.table(_("Ranking"), [_("Rank"), _("Street"), _("Cases"), _("Resolved on time"),
                           _("Satisfaction")],
            [[i + 1, streets[p].name, cases[p].value, on_time[p].value, rating[p].value]
             for i, p in enumerate(rows)])
    r.note(_("Ranked by the share resolved on time, then by satisfaction (KPI roll-ups)."))
    return r.data


def city_overview(area, cadence, start) -> dict:
    r = Report("city_overview", area, cadence, start)
    f = _cases(area, cadence, start)
    if not f["total"]:
        r.nothing(_("No cases were reported in the city in this period."))
        return r.data
    kpi_figures(r, CASE_HEADLINE + ["governance.disputes_street_or_below"], area, cadence,
                start)
    r.chart(_("Cases by district"), [(both((a["name"], a["name"])), a["count"])
                                     for a in f["by_area"][:15]])
    r.table(_("Cases by district"), [_("Area"), _("Code"), _("Cases")],
            [[a["name"], a["code"], a["count"]] for a in f["by_area"]])
    return r.data


BUILDERS = {
    "grid_weekly": grid_weekly, "dispute_monthly": dispute_monthly,
    "bundles_monthly": bundles_monthly, "warning_weekly": warning_weekly,
    "rescue_readiness": rescue_readiness, "department_performance": department_performance,
    "street_ranking": street_ranking, "city_overview": city_overview,
}


def report_build(kind: str, area, start: date) -> dict:
    return BUILDERS[kind](area, KINDS[kind].cadence, start)
