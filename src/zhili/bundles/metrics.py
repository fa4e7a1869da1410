"""Honest metrics, per bundle and overall; the formulas are in docs/bundles.md.

Catalogue metrics take every matter of the bundle (all situations answered
so that everything applies). Overall figures are ratios of sums, not
averages of ratios, so a small bundle cannot inflate them.
"""

from __future__ import annotations

from django.db.models import Count, Q

from zhili.bundles.models import Bundle, Task
from zhili.bundles.plan import plan_load


def _ratio(part: float, whole: float) -> float | None:
    return round(1 - part / whole, 3) if whole else None


def bundle_catalogue_metrics(plan, registry_types: set[str]) -> dict:
    matters = plan.matters
    materials = plan.materials(matters)
    produced = plan.produced(matters)
    separate_materials = sum(len(m.materials.all()) for m in matters)
    after_dedup = len(materials)
    after_outputs = sum(1 for mat, _ in materials if mat.code not in produced)
    after_reuse = sum(1 for mat, _ in materials
                      if mat.code not in produced and mat.cert_type not in registry_types)
    elements = plan.elements(matters)
    separate_fields = sum(len(m.elements.all()) for m in matters)
    prefillable = sum(1 for e in elements if e.source)
    critical, path = plan.critical_days(matters)
    statutory = sum(m.statutory_days for m in matters)
    promised = sum(m.promised_days for m in matters)
    trips_separate = sum(m.trips_alone for m in matters)
    trips_bundle = 0 if all(m.online for m in matters) else 1
    return {
        "bundle": plan.bundle.code, "name": plan.bundle.name, "matters": len(matters),
        "materials_separate": separate_materials, "materials_deduplicated": after_dedup,
        "materials_asked": after_outputs, "materials_asked_with_registry": after_reuse,
        "materials_reduction": _ratio(after_outputs, separate_materials),
        "materials_reduction_with_registry": _ratio(after_reuse, separate_materials),
        "fields_separate": separate_fields, "fields_asked": len(elements),
        "fields_prefillable": prefillable,
        "fields_reduction": _ratio(len(elements), separate_fields),
        "fields_typed_reduction": _ratio(len(elements) - prefillable, separate_fields),
        "statutory_days_sum": statutory, "promised_days_sum": promised,
        "critical_path_days": critical, "critical_path": path,
        "time_reduction_vs_statutory": _ratio(critical, statutory),
        "time_reduction_vs_promised": _ratio(critical, promised),
        "trips_separate": trips_separate, "trips_bundle": trips_bundle,
        "trips_saved": trips_separate - trips_bundle,
        "online_share": round(sum(m.online for m in matters) / len(matters), 3) if matters else None,
    }


def catalogue_metrics() -> dict:
    from zhili.registry.models import CERTIFICATE_TYPES

    types = set(CERTIFICATE_TYPES)
    rows = [bundle_catalogue_metrics(plan_load(b), types)
            for b in Bundle.objects.filter(published=True).select_related("lead_department")]
    total = {k: sum(r[k] for r in rows) for k in (
        "matters", "materials_separate", "materials_asked", "materials_asked_with_registry",
        "fields_separate", "fields_asked", "fields_prefillable", "statutory_days_sum",
        "promised_days_sum", "critical_path_days", "trips_separate", "trips_bundle")}
    total.update({
        "bundles": len(rows),
        "materials_reduction": _ratio(total["materials_asked"], total["materials_separate"]),
        "materials_reduction_with_registry": _ratio(total["materials_asked_with_registry"],
                                                    total["materials_separate"]),
        "fields_reduction": _ratio(total["fields_asked"], total["fields_separate"]),
        "time_reduction_vs_statutory": _ratio(total["critical_path_days"], total["statutory_days_sum"]),
        "time_reduction_vs_promised": _ratio(total["critical_path_days"], total["promised_days_sum"]),
        "trips_saved": total["trips_separate"] - total["trips_bundle"],
    })
    return {"bundles": rows, "overall": total}


# The KPIs `observed_metrics` reads from the roll-ups, by the keys it has always used.
OBSERVED_KPIS = {
    "applications": "bundles.applications",
    "completed": "bundles.completed",
    "tasks_online_share": "bundles.online_share",
    "materials_saved": "bundles.materials_saved",
    "time_saved": "bundles.time_saved",
    "overdue": "bundles.overdue",
}


def _city_kpis(now=None) -> dict:
    """The bundles KPIs of the whole city over every day, from supervision's roll-ups
    (read as the system: these are city-wide totals, no person's data)."""
    from datetime import date, timedelta

    from django.apps import apps
    from django.utils import timezone

    from zhili.geo.models import AreaNode

    city = AreaNode.objects.filter(level="city").values_list("path", flat=True).first()
    if city is None or not apps.is_installed("zhili.supervision"):
        return {key: None for key in OBSERVED_KPIS}
    from zhili.supervision.selectors import kpi_values_between

    end = timezone.localdate(now or timezone.now()) + timedelta(days=1)
    found = kpi_values_between(list(OBSERVED_KPIS.values()), city, date(2000, 1, 1), end)
    return {key: found[code].value for key, code in OBSERVED_KPIS.items()}


def observed_metrics(now=None) -> dict:
    """From real applications. The KPIs (applications, completed, online share,
    materials and time saved, overdue) are read from the supervision app's
    roll-ups, not computed again here; what the KPI layer does not hold is counted
    here: materials uploaded and reused, tasks, approved and rejected decisions,
    and the mean days to complete."""
    from django.db.models import DurationField, ExpressionWrapper, F, Sum

    from zhili.bundles import selectors

    rows = selectors.applications_for_rollup().order_by()
    c = rows.aggregate(uploaded=Sum("n_uploaded"), reused=Sum("n_reused"), tasks=Sum("n_tasks"),
                       done=Count("id", filter=Q(completed_at__isnull=False)),
                       elapsed=Sum(ExpressionWrapper(F("completed_at") - F("submitted_at"),
                                                     output_field=DurationField()),
                                   filter=Q(completed_at__isnull=False)))
    tasks = Task.objects.aggregate(approved=Count("id", filter=Q(status="approved")),
                                   rejected=Count("id", filter=Q(status="rejected")))
    elapsed_days = c["elapsed"].total_seconds() / 86400 if c["elapsed"] else 0
    return {
        **_city_kpis(),
        "materials_uploaded": int(c["uploaded"] or 0),
        "materials_reused": int(c["reused"] or 0),
        "tasks": int(c["tasks"] or 0),
        "approved": tasks["approved"], "rejected": tasks["rejected"],
        "mean_days_to_complete": round(elapsed_days / c["done"], 2) if c["done"] else None,
    }
