"""Reads: the catalogue, the one notice, the one form, applications, inboxes.

The notice and the form run a fixed number of queries whatever the size of
the bundle (plan_load, then one query each for binding, consents and
certificates). An application is visible only to its applicant; a task only
to officers of its department in its area; "missing" and "not yours" are the
same NotFound.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.bundles.access import PURPOSE, binding_for, officer_posts, officer_q
from zhili.bundles.forms import element_schema
from zhili.bundles.models import (
    OPEN_STATUSES,
    Application,
    Attachment,
    Bundle,
    Event,
    Task,
    TaskStatus,
)
from zhili.bundles.plan import Plan, plan_load
from zhili.core.errors import NotFound, PermissionDenied, invalid
from zhili.core.i18n import localized
from zhili.registry.models import Certificate, CertificateStatus, Consent

MAX_ID = 2**63 - 1


def _pk(value) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 1 <= pk <= MAX_ID:
        raise NotFound()
    return pk


def bundle_list(*, life_event: str = "") -> QuerySet[Bundle]:
    qs = Bundle.objects.filter(published=True).select_related("lead_department")
    if life_event:
        qs = qs.filter(life_event=life_event[:32])
    return qs.order_by("life_event", "code")


def _holdings(actor, plan: Plan, matters) -> tuple[object, set[str], dict[str, Certificate]]:
    """(person, consented data items, valid certificates by type) for the applicant."""
    binding = binding_for(actor)
    if binding is None:
        return None, set(), {}
    person = binding.person
    consented = set(Consent.objects.filter(person=person, purpose=PURPOSE, revoked_at__isnull=True)
                    .exclude(expires_at__lte=timezone.now()).values_list("data_item", flat=True))
    types = {m.cert_type for m, _ in plan.materials(matters) if m.cert_type}
    types |= {e.source.split(":", 1)[1] for e in plan.elements(matters)
              if e.source.startswith("certificate:")}
    held: dict[str, Certificate] = {}
    if types:
        for cert in Certificate.objects.filter(person=person, cert_type__in=types,
                                               status=CertificateStatus.VALID).order_by("-issued_on"):
            held.setdefault(cert.cert_type, cert)
    return person, consented, held


def _materials_view(plan: Plan, matters, consented, held) -> list[dict]:
    produced = plan.produced(matters)
    out = []
    for mat, needed_by in plan.materials(matters):
        if mat.code in produced:
            state = "produced"  # issued by a matter of this bundle on the way
        elif mat.cert_type in held:
            state = "reused" if f"certificate:{mat.cert_type}" in consented else "held"
        else:
            state = "upload"
        out.append({"code": mat.code, "name": mat.name, "name_en": mat.name_en,
                    "cert_type": mat.cert_type, "medium": mat.medium, "state": state,
                    "needed_by": needed_by})
    return out


def notice_build(*, actor, bundle: str, answers: dict | None = None) -> dict:
    """The one notice (一次告知): what applies, what is still needed, what the city holds, how long."""
    plan = plan_load(bundle)
    chosen = plan.answers_clean(answers)
    matters = plan.applicable(chosen)
    _person, consented, held = _holdings(actor, plan, matters)
    days, path = plan.critical_days(matters)
    b = plan.bundle
    return {
        "bundle": {"code": b.code, "name": b.name, "name_en": b.name_en, "life_event": b.life_event,
                   "lead_department": b.lead_department.code, "description": b.description,
                   "description_en": b.description_en, "assumed": b.assumed},
        "answers": chosen,
        "situations": [{"code": s.code, "question": s.question, "question_en": s.question_en,
                        "default": s.default, "answer": chosen[s.code]} for s in plan.situations],
        "matters": [{"code": m.code, "name": m.name, "name_en": m.name_en,
                     "department": m.department.code, "department_name": m.department.name,
                     "department_name_en": m.department.name_en,
                     "legal_basis_en": m.legal_basis_en,
                     "depends_on_names_en": [x.name_en or x.name for x in matters
                                             if x.code in plan.deps[m.code]],
                     "promised_days": m.promised_days, "statutory_days": m.statutory_days,
                     "fee": str(m.fee), "output": m.output_cert_type, "legal_basis": m.legal_basis,
                     "depends_on": sorted(plan.deps[m.code] & {x.code for x in matters}),
                     "depends_on_names": [x.name for x in matters if x.code in plan.deps[m.code]]}
                    for m in matters],
        "materials": _materials_view(plan, matters, consented, held),
        "promised_days": days,
        "critical_path": path,
        "separate_days": sum(m.promised_days for m in matters),
        "fee_total": str(sum((m.fee for m in matters), start=0)),
        "departments": sorted({m.department.code for m in matters}),
    }


def form_build(*, actor, bundle: str, answers: dict | None = None) -> dict:
    """The one form: each data element once, prefilled where the applicant consented."""
    plan = plan_load(bundle)
    chosen = plan.answers_clean(answers)
    matters = plan.applicable(chosen)
    person, consented, held = _holdings(actor, plan, matters)
    fields, consents = [], {}
    for e in plan.elements(matters):
        field = element_schema(e)
        field["value"], field["prefilled"] = "", False
        if e.source and person is not None:
            consents.setdefault(e.source, False)
            if e.source in consented:
                consents[e.source] = True
                if e.source.startswith("person."):
                    field["value"] = str(getattr(person, e.source.split(".", 1)[1], "") or "")
                else:
                    cert = held.get(e.source.split(":", 1)[1])
                    field["value"] = cert.number if cert else ""
                field["prefilled"] = bool(field["value"])
        fields.append(field)
    materials = _materials_view(plan, matters, consented, held)
    for m in materials:
        if m["state"] in ("held", "reused"):
            consents.setdefault(f"certificate:{m['cert_type']}", m["state"] == "reused")
    # Consents are asked by what they fill in, in the reader's language, never by code.
    labels = {f["source"]: localized(f, "label") for f in fields if f["source"]}
    labels.update({f"certificate:{m['cert_type']}": localized(m, "name")
                   for m in materials if m["cert_type"]})
    return {
        "bundle": plan.bundle.code,
        "answers": chosen,
        "matters": [m.code for m in matters],
        "fields": fields,
        "materials": materials,
        "consents": [{"data_item": k, "label": labels.get(k, k), "granted": v}
                     for k, v in consents.items()],
        "bound": person is not None,
    }


# --- applications (the applicant) ---------------------------------------------------------

def uploads_pending(*, actor, ids) -> QuerySet[Attachment]:
    """The actor's own uploads not yet part of an application (kept across a refused form)."""
    if actor is None or not actor.is_authenticated:
        return Attachment.objects.none()
    ids = [i for i in ids if isinstance(i, int)][:100]
    return Attachment.objects.filter(pk__in=ids, owner=actor, application__isnull=True) \
        .select_related("material")


def application_list_for(*, actor) -> QuerySet[Application]:
    if actor is None or not actor.is_authenticated:
        raise NotFound()
    return Application.objects.filter(applicant=actor).select_related("bundle").order_by("-submitted_at")


def application_get_for(actor, application_id) -> Application:
    if actor is None or not actor.is_authenticated:
        raise NotFound()
    found = (Application.objects.filter(pk=_pk(application_id), applicant=actor)
             .select_related("bundle").first())
    if found is None:
        raise NotFound()
    return found


def application_timeline(application: Application) -> dict:
    """Per matter: status, department, due time, output, events; a fixed number of queries."""
    tasks = list(application.tasks.select_related("matter", "department").prefetch_related("supplements"))
    events = list(Event.objects.filter(application=application).order_by("at", "id"))
    by_task: dict[int | None, list[Event]] = {}
    for e in events:
        by_task.setdefault(e.task_id, []).append(e)
    return {"tasks": tasks, "events": events, "by_task": by_task,
            "general": by_task.get(None, [])}


# --- tasks (the officer) -----------------------------------------------------------------

def inbox(*, actor, status: str = "ready") -> QuerySet[Task]:
    if not officer_posts(actor):
        raise PermissionDenied(_("Only department officers have an inbox."))
    if status not in TaskStatus.values and status != "open":
        raise invalid("status", _("one of: %(v)s") % {"v": ", ".join(["open", *TaskStatus.values])})
    qs = Task.objects.filter(officer_q(actor)).select_related(
        "matter", "department", "application__bundle")
    qs = qs.filter(status__in=OPEN_STATUSES) if status == "open" else qs.filter(status=status)
    return qs.order_by("due_at", "id")


def task_get_for(actor, task_id) -> Task:
    found = (Task.objects.filter(officer_q(actor), pk=_pk(task_id))
             .select_related("matter", "department", "application__bundle", "application__person")
             .first())
    if found is None:
        raise NotFound()
    return found


def overdue_for_lead(*, actor) -> QuerySet[Task]:
    """Overdue tasks of bundles the actor's department leads, in the actor's areas."""
    if not officer_posts(actor):
        raise PermissionDenied(_("Only department officers see overdue tasks."))
    return (Task.objects.filter(officer_q(actor, "application__bundle__lead_department_id"),
                                overdue_flagged_at__isnull=False, status__in=OPEN_STATUSES)
            .select_related("matter", "department", "application__bundle").order_by("due_at"))


# Roll-up reads for the supervision app's worker (zhili.bundles.kpis): sums per area
# and day, not an actor's page, so not scoped (supervision scopes what it shows).

def _count(queryset):
    """The number of rows of a correlated subquery (COUNT as a plain function: no GROUP BY)."""
    from django.db.models import F, Func, IntegerField, Subquery

    return Subquery(queryset.order_by().annotate(n=Func(F("pk"), function="COUNT"))
                    .values("n"), output_field=IntegerField())


def applications_for_rollup(*, area_path: str | None = None, start=None, end=None) -> QuerySet:
    """Applications (own area `area_path`, all when None) submitted in [start, end),
    each with counts of its tasks and materials: n_tasks, n_online, n_overdue,
    n_materials_separate (its matters' materials, as if applied for one by one),
    n_uploaded, n_reused (e-certificates instead of uploads), promised_days."""
    from django.db.models import F, Func, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from zhili.bundles.models import Matter

    rows = Application.objects.all()
    if area_path is not None:
        rows = rows.filter(area_path=area_path)
    if start is not None:
        rows = rows.filter(submitted_at__gte=start)
    if end is not None:
        rows = rows.filter(submitted_at__lt=end)
    tasks = Task.objects.filter(application=OuterRef("pk"))
    links = Matter.materials.through.objects.filter(
        matter__in=Task.objects.filter(application=OuterRef(OuterRef("pk"))).values("matter"))
    attachments = Attachment.objects.filter(application=OuterRef("pk"))
    promised = Coalesce(Subquery(tasks.order_by().annotate(
        d=Func(F("matter__promised_days"), function="SUM")).values("d"),
        output_field=IntegerField()), 0)
    return rows.order_by().annotate(
        n_tasks=_count(tasks),
        n_online=_count(tasks.filter(matter__online=True)),
        n_overdue=_count(tasks.filter(overdue_flagged_at__isnull=False)),
        n_materials_separate=_count(links),
        n_uploaded=_count(attachments.filter(certificate__isnull=True)),
        n_reused=_count(attachments.filter(certificate__isnull=False)),
        promised_days=promised,
    )


def application_changes(*, after_id: int, limit: int):
    """(event id, application area path, submitted_at) of application events after `after_id`."""
    return list(Event.objects.filter(id__gt=after_id).order_by("id")
                .values_list("id", "application__area_path", "application__submitted_at")[:limit])
