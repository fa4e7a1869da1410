"""Writes: consent, uploads, submission, release, decisions, supplements, overdue flags.

Each use case validates first (422 naming every bad field, nothing written),
checks permission, then writes in one transaction with its audit row.
Submission and decisions run a fixed number of queries whatever the number of
matters: bulk creates and one release pass over the application's tasks.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.audit.services import audit_record
from zhili.bundles.access import (
    PURPOSE,
    PURPOSE_TEXT,
    binding_for,
    may_apply,
    may_decide,
)
from zhili.bundles.events import event, event_add, events_add
from zhili.bundles.forms import data_validate, element_schema
from zhili.bundles.models import (
    Application,
    Attachment,
    EventKind,
    Material,
    SupplementRequest,
    Task,
    TaskStatus,
    upload_path,
)
from zhili.bundles.plan import Plan, plan_load
from zhili.bundles.release import (  # noqa: F401  (services' callers use these names)
    application_release,
    overdue_flag,
    working_days_after,
)
from zhili.bundles.tasks import release_application
from zhili.core.errors import (
    Conflict,
    FieldError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    invalid,
)
from zhili.core.queue import enqueue_with_commit
from zhili.registry.models import (
    CERTIFICATE_TYPES,
    DATA_ITEMS,
    Certificate,
    CertificateStatus,
    Consent,
)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Type by the file's first bytes, never by its name or the browser's claim.
MAGIC = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
_KEY_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def _require_login(actor):
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated()


# --- consent -------------------------------------------------------------------------------

def consent_give(*, actor, data_items: list[str]) -> list[str]:
    """The applicant allows prefill/reuse of these items of their own record (asked in the form).

    The registry records the consent; an item already in force is left as it is.
    """
    _require_login(actor)
    if not may_apply(actor):
        raise PermissionDenied(_("Only residents apply for bundled services."))
    if not isinstance(data_items, list) or not data_items:
        raise invalid("data_items", _("name at least one data item"))
    bad = [i for i in data_items if i not in DATA_ITEMS]
    if bad:
        raise ValidationFailed([FieldError(f"data_items.{b}", _("unknown data item")) for b in bad[:10]])
    binding = binding_for(actor)
    if binding is None:
        raise invalid("data_items", _("your account is not bound to a registry person (real-name check)"))
    from zhili.registry.services import consent_grant

    active = set(Consent.objects.filter(person=binding.person, purpose=PURPOSE, revoked_at__isnull=True,
                                        data_item__in=data_items)
                 .exclude(expires_at__lte=timezone.now()).values_list("data_item", flat=True))
    granted = []
    with transaction.atomic():
        for item in dict.fromkeys(data_items):
            if item in active:
                continue
            # The person consents for themselves; the registry's grant is recorded as the
            # system, and this audit row names the person's own account as the actor.
            consent_grant(actor=None, person=binding.person, purpose=PURPOSE,
                          purpose_text=PURPOSE_TEXT, data_item=item)
            granted.append(item)
        if granted:
            audit_record(actor=actor, action="bundles.consent", obj=binding.person,
                         detail={"data_items": granted, "purpose": PURPOSE})
    return granted


# --- uploads -------------------------------------------------------------------------------

def upload_store(*, actor, material: str, filename: str, content: bytes) -> Attachment:
    _require_login(actor)
    if not may_apply(actor):
        raise PermissionDenied(_("Only residents upload materials."))
    found = Material.objects.filter(code=str(material)[:48]).first()
    if found is None:
        raise invalid("material", _("no such material"))
    if not content:
        raise invalid("file", _("is empty"))
    if len(content) > MAX_UPLOAD_BYTES:
        raise invalid("file", _("must be at most %(n)d MB") % {"n": MAX_UPLOAD_BYTES // (1024 * 1024)})
    kind = next((t for magic, t in MAGIC.items() if content.startswith(magic)), None)
    if kind is None:
        raise invalid("file", _("must be a PDF, PNG or JPEG file"))
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        attachment = Attachment(owner=actor, material=found, filename=(filename or "upload")[-120:],
                                content_type=kind, size=len(content), sha256=digest)
        name = upload_path(attachment, "")
        if attachment.file.storage.exists(name):
            attachment.file.name = name  # the same bytes are stored once (content-addressed)
        else:
            attachment.file.save(digest, ContentFile(content), save=False)
        attachment.save()
        audit_record(actor=actor, action="bundles.upload", obj=attachment,
                     detail={"material": found.code, "sha256": digest, "size": len(content)})
    return attachment


# --- submission ----------------------------------------------------------------------------

def _reference() -> str:
    return f"YJS{timezone.localdate():%Y%m%d}{secrets.randbelow(10**8):08d}"


def _materials_resolve(plan: Plan, applicable, person, uploads: dict, actor, consented: set[str]):
    """Per material: produced inside the bundle, reused e-certificate, or an upload. 422 if missing."""
    produced = plan.produced(applicable)
    types_needed = {m.cert_type for m, _ in plan.materials(applicable) if m.cert_type}
    held = {}
    if person is not None and types_needed:
        for cert in (Certificate.objects.filter(person=person, cert_type__in=types_needed,
                                                status=CertificateStatus.VALID).order_by("-issued_on")):
            held.setdefault(cert.cert_type, cert)
    upload_ids = {}
    errors: list[FieldError] = []
    if not isinstance(uploads, dict):
        raise invalid("uploads", _("must be an object of material code to upload id"))
    for code, value in uploads.items():
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(FieldError(f"uploads.{code}", _("must be an upload id")))
        else:
            upload_ids[code] = value
    found = {a.pk: a for a in Attachment.objects.filter(pk__in=list(upload_ids.values())[:100],
                                                        owner=actor, application__isnull=True)
             .select_related("material")}
    attach, reuse = [], []
    wanted = set()
    for material, _reason in plan.materials(applicable):
        wanted.add(material.code)
        if material.code in produced:
            continue  # issued by a matter of this bundle on the way
        cert = held.get(material.cert_type)
        if cert is not None and f"certificate:{material.cert_type}" in consented:
            reuse.append((material, cert))
            continue
        upload = found.get(upload_ids.get(material.code, -1))
        if upload is None or upload.material_id != material.pk:
            errors.append(FieldError(f"uploads.{material.code}", _("is required: upload the document")))
        else:
            attach.append(upload)
    for code in upload_ids:
        if code not in wanted:
            errors.append(FieldError(f"uploads.{code}", _("not asked by this bundle")))
    return attach, reuse, errors


def application_submit(*, actor, bundle: str, answers: dict | None, data: dict | None,
                       uploads: dict | None = None, idempotency_key: str) -> Application:
    """One submission: one application, one task per applicable matter. Idempotent by key."""
    _require_login(actor)
    if not may_apply(actor):
        raise PermissionDenied(_("Only residents apply for bundled services."))
    if (not isinstance(idempotency_key, str) or not 8 <= len(idempotency_key) <= 64
            or not set(idempotency_key) <= _KEY_OK):
        raise invalid("idempotency_key", _("8 to 64 letters, digits, dashes or underscores"))
    existing = (Application.objects.filter(applicant=actor, idempotency_key=idempotency_key)
                .select_related("bundle").first())
    if existing is not None:
        if existing.bundle.code != bundle:
            raise Conflict(_("This idempotency key was used for another bundle."))
        return existing
    plan = plan_load(bundle)
    chosen = plan.answers_clean(answers)
    applicable = plan.applicable(chosen)
    if not applicable:
        raise invalid("answers", _("with these answers no matter applies"))
    binding = binding_for(actor)
    if binding is None:
        raise invalid("applicant", _("your account is not bound to a registry person (real-name check)"))
    person = binding.person
    fields = [element_schema(e) for e in plan.elements(applicable)]
    clean, errors = data_validate(fields, data or {})
    consented = set(Consent.objects.filter(person=person, purpose=PURPOSE, revoked_at__isnull=True)
                    .exclude(expires_at__lte=timezone.now()).values_list("data_item", flat=True))
    attach, reuse, material_errors = _materials_resolve(plan, applicable, person, uploads or {},
                                                        actor, consented)
    errors += material_errors
    if errors:
        raise ValidationFailed(errors)

    now = timezone.now()
    deps = plan.graph_of(applicable)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                reference=_reference(), bundle=plan.bundle, applicant=actor, person=person,
                organisation=binding.organisation, idempotency_key=idempotency_key,
                answers=chosen, data=clean, submitted_at=now, area_path=person.area_path)
            tasks = []
            for m in applicable:
                ready = not deps[m.code]
                tasks.append(Task(
                    application=application, matter=m, department=m.department,
                    area_path=application.area_path,
                    status=TaskStatus.READY if ready else TaskStatus.BLOCKED,
                    ready_at=now if ready else None,
                    due_at=working_days_after(now, m.promised_days) if ready else None))
            Task.objects.bulk_create(tasks)
            events = [event(application=application, kind=EventKind.SUBMITTED, at=now, actor=actor,
                            detail={"matters": [m.code for m in applicable]})]
            events += [event(application=application, task=t, kind=EventKind.READY, at=now,
                             detail={"department": t.department.code})
                       for t in tasks if t.status == TaskStatus.READY]
            events_add(events)
            if attach:
                Attachment.objects.filter(pk__in=[a.pk for a in attach]).update(application=application)
            if reuse:
                Attachment.objects.bulk_create([
                    Attachment(owner=actor, application=application, material=mat, certificate=cert)
                    for mat, cert in reuse])
            audit_record(actor=actor, action="bundles.submit", obj=application,
                         detail={"bundle": plan.bundle.code, "tasks": len(tasks),
                                 "reused": [m.code for m, _ in reuse],
                                 "uploaded": [a.material.code for a in attach]})
    except IntegrityError:
        # A double click raced us: the other request created it; answer with that one.
        existing = Application.objects.filter(applicant=actor, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing
    return application


# --- decisions -----------------------------------------------------------------------------

DECISIONS = ("approve", "reject", "supplement")


def _issue_output(*, actor, task: Task) -> tuple[str, Certificate | None]:
    """Issue the matter's e-certificate into the registry when the registry knows the type."""
    kind = task.matter.output_cert_type
    if not kind:
        return "", None
    spec = CERTIFICATE_TYPES.get(kind)
    application = task.application
    holder = application.person if spec is not None and spec.holder == "person" else application.organisation
    if spec is None or holder is None or spec.department != task.department.code:
        # The registry does not hold this type yet: the number lives on the task.
        return f"{kind[:8].upper()}-{application.reference[-8:]}-{task.pk}", None
    from zhili.registry.services import certificate_issue

    subject = application.data.get("child-name") or application.data.get("deceased-name") or ""
    cert = certificate_issue(actor=actor, cert_type=kind, holder=holder, department=task.department,
                             content={"application": application.reference, "matter": task.matter.code,
                                      "subject": subject})
    return cert.number, cert


def _supplement_items(task: Task, items) -> list[dict]:
    if not isinstance(items, list) or not items:
        raise invalid("items", _("list every missing item at once (at least one)"))
    if len(items) > 30:
        raise invalid("items", _("at most %(n)d items") % {"n": 30})
    elements = {e.code for e in task.matter.elements.all()}
    materials = {m.code for m in task.matter.materials.all()}
    clean, errors = [], []
    for i, item in enumerate(items):
        kind = item.get("kind") if isinstance(item, dict) else None
        code = item.get("code", "") if isinstance(item, dict) else ""
        note = item.get("note", "") if isinstance(item, dict) else ""
        if kind not in ("element", "material", "note"):
            errors.append(FieldError(f"items.{i}.kind", _("one of: %(v)s") % {"v": "element, material, note"}))
        elif kind == "element" and code not in elements:
            errors.append(FieldError(f"items.{i}.code", _("not a data element of this matter")))
        elif kind == "material" and code not in materials:
            errors.append(FieldError(f"items.{i}.code", _("not a material of this matter")))
        elif not isinstance(note, str) or len(note) > 200 or (kind == "note" and len(note.strip()) < 4):
            errors.append(FieldError(f"items.{i}.note", _("a note of 4 to 200 characters")))
        else:
            clean.append({"kind": kind, "code": code, "note": note.strip()})
    if errors:
        raise ValidationFailed(errors)
    return clean


def task_decide(*, actor, task: Task, decision: str, reason: str = "", items=None) -> Task:
    """Approve (issuing the output), reject with a reason, or ask for all supplements at once."""
    _require_login(actor)
    if decision not in DECISIONS:
        raise invalid("decision", _("one of: %(v)s") % {"v": ", ".join(DECISIONS)})
    if not may_decide(actor, task):
        raise PermissionDenied(_("Only an officer of the task's department decides it."))
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if decision == "reject" and not 4 <= len(reason) <= 300:
        raise invalid("reason", _("say why, in %(min)d to %(max)d characters") % {"min": 4, "max": 300})
    clean_items = _supplement_items(task, items) if decision == "supplement" else []
    now = timezone.now()
    with transaction.atomic():
        fresh = (Task.objects.select_for_update().select_related("application", "matter", "department")
                 .get(pk=task.pk))
        if fresh.status != TaskStatus.READY:
            raise Conflict(_("The task is %(status)s; only a task with the department is decided.")
                           % {"status": fresh.status})
        if decision == "approve":
            fresh.output_number, fresh.certificate = _issue_output(actor=actor, task=fresh)
            fresh.status, kind = TaskStatus.APPROVED, EventKind.APPROVED
        elif decision == "reject":
            fresh.status, kind = TaskStatus.REJECTED, EventKind.REJECTED
        else:
            SupplementRequest.objects.create(task=fresh, items=clean_items, requested_by=actor,
                                             requested_at=now)
            fresh.status, kind = TaskStatus.SUPPLEMENT, EventKind.SUPPLEMENT_REQUESTED
        if decision != "supplement":
            fresh.decided_at, fresh.decided_by, fresh.reason = now, actor, reason
        fresh.save()
        event_add(application=fresh.application, task=fresh, kind=kind, at=now, actor=actor,
                  detail={"reason": reason, "items": clean_items, "output": fresh.output_number})
        audit_record(actor=actor, action=f"bundles.task_{decision}", obj=fresh,
                     detail={"matter": fresh.matter.code, "application": fresh.application.reference,
                             "reason": reason, "output": fresh.output_number})
        if decision != "supplement":
            application_release(application_id=fresh.application_id)
            # The retry: if anything above is ever split off, the queue finishes it.
            enqueue_with_commit(release_application, fresh.application_id)
    return fresh


def supplement_answer(*, actor, task: Task, data: dict | None = None,
                      uploads: dict | None = None) -> SupplementRequest:
    """The applicant answers every item of the open request in one go; the task returns to the desk."""
    _require_login(actor)
    if task.application.applicant_id != actor.pk:
        raise PermissionDenied(_("Only the applicant answers a supplement request."))
    open_request = task.supplements.filter(answered_at__isnull=True).first()
    if open_request is None or task.status != TaskStatus.SUPPLEMENT:
        raise Conflict(_("There is no open supplement request for this task."))
    data, uploads = data or {}, uploads or {}
    if not isinstance(data, dict) or not isinstance(uploads, dict):
        raise invalid("data", _("data and uploads must be objects"))
    elements = {e.code: e for e in task.matter.elements.all()}
    fields = [element_schema(elements[i["code"]]) for i in open_request.items if i["kind"] == "element"]
    clean, errors = data_validate(fields, data)
    wanted = [i["code"] for i in open_request.items if i["kind"] == "material"]
    ids = {c: uploads.get(c) for c in wanted}
    found = {a.pk: a for a in Attachment.objects.filter(
        pk__in=[v for v in ids.values() if isinstance(v, int)], owner=actor, application__isnull=True)
        .select_related("material")}
    for code, pk in ids.items():
        upload = found.get(pk)
        if upload is None or upload.material.code != code:
            errors.append(FieldError(f"uploads.{code}", _("is required: upload the document")))
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        fresh = Task.objects.select_for_update().select_related("application", "matter").get(pk=task.pk)
        if fresh.status != TaskStatus.SUPPLEMENT:
            raise Conflict(_("There is no open supplement request for this task."))
        open_request.answer = {"data": clean, "uploads": {c: found[pk].pk for c, pk in ids.items()}}
        open_request.answered_at = now
        open_request.save(update_fields=["answer", "answered_at"])
        if found:
            Attachment.objects.filter(pk__in=list(found)).update(application=fresh.application)
        application = fresh.application
        application.data = {**application.data, **clean}
        application.save(update_fields=["data"])
        # Time waiting for the applicant does not count against the department.
        waited = now - open_request.requested_at
        fresh.status = TaskStatus.READY
        fresh.due_at = (fresh.due_at + waited) if fresh.due_at else working_days_after(
            now, fresh.matter.promised_days)
        fresh.save(update_fields=["status", "due_at"])
        event_add(application=application, task=fresh, kind=EventKind.SUPPLEMENT_ANSWERED,
                  at=now, actor=actor, detail={"items": len(open_request.items)})
        audit_record(actor=actor, action="bundles.supplement_answer", obj=fresh,
                     detail={"request": open_request.pk})
    return open_request


def task_reveal(*, actor, task: Task, purpose: str) -> Task:
    """The applicant's data in full for an officer deciding the task, with a purpose, audited."""
    if not may_decide(actor, task):
        raise PermissionDenied(_("Only an officer of the task's department sees the data in full."))
    purpose = (purpose or "").strip() if isinstance(purpose, str) else ""
    if not 4 <= len(purpose) <= 200:
        raise invalid("purpose", _("say why, in %(min)d to %(max)d characters") % {"min": 4, "max": 200})
    with transaction.atomic():
        audit_record(actor=actor, action="bundles.task_reveal", obj=task, purpose=purpose,
                     detail={"application": task.application_id})
    return task


def attachment_open(*, actor, task: Task, attachment_id) -> Attachment:
    """An uploaded material of the task's application, for the officer deciding it; audited
    (an identity card is personal data). Anything else is the same 404 as a missing one."""
    if not may_decide(actor, task):
        raise NotFound()
    found = (Attachment.objects.filter(pk=attachment_id if isinstance(attachment_id, int) else -1,
                                       application_id=task.application_id,
                                       material__in=task.matter.materials.all())
             .exclude(file="").select_related("material").first())
    if found is None:
        raise NotFound()
    with transaction.atomic():
        audit_record(actor=actor, action="bundles.attachment_read", obj=found,
                     detail={"task": task.pk, "material": found.material.code})
    return found
