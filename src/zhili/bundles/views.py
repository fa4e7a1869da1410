"""Pages: citizens browse, read the notice, fill the one form, track; officers decide.

Views parse the request, call one selector or service, and render; an
ApplicationError is shown on the page (forms) or as the error page.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from zhili.bundles import selectors, services
from zhili.bundles.access import is_officer, may_apply
from zhili.bundles.forms import choice_labels, choice_shown, data_validate, value_mask
from zhili.bundles.models import LIFE_EVENTS, TaskStatus
from zhili.core.errors import ApplicationError, FieldError, NotFound, ValidationFailed
from zhili.core.forms import form_errors
from zhili.core.i18n import localized


def _answers(source, plan_situations) -> dict:
    """Situation answers from a query string or form: `s-<code>` = yes|no."""
    out = {}
    for s in plan_situations:
        value = source.get(f"s-{s['code']}")
        if value in ("yes", "no"):
            out[s["code"]] = value == "yes"
    return out


def _or_404(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except NotFound:
        raise Http404() from None


def bundle_list(request):
    bundles = list(selectors.bundle_list(life_event=request.GET.get("life_event", "")))
    events: dict[str, list] = {}
    for b in bundles:
        events.setdefault(b.life_event, []).append(b)
    events = [(code, LIFE_EVENTS.get(code, code), rows) for code, rows in events.items()]
    # Offer only the pages this user can open (an inbox is for department officers).
    return render(request, "bundles/list.html", {"events": events, "may_apply": may_apply(request.user),
                                                 "is_officer": is_officer(request.user)})


def notice(request, code):
    user = request.user if request.user.is_authenticated else None
    base = _or_404(selectors.notice_build, actor=None, bundle=code)
    answers = _answers(request.GET, base["situations"])
    data = selectors.notice_build(actor=user, bundle=code, answers=answers)
    # "Assumed, not sourced" is a note for whoever keeps the catalogue, not for residents.
    show_assumed = bool(user and (user.is_staff or user.has_perm("bundles.change_bundle")))
    return render(request, "bundles/notice.html", {"n": data, "query": request.GET.urlencode(),
                                                   "show_assumed": show_assumed})


# A service names the form's values `data.<code>` and its files `uploads.<code>`.
PREFIXES = {"data.": "f-", "uploads.": "m-"}


def _uploads_store(request, materials) -> tuple[dict[str, int], list[FieldError]]:
    """Store each chosen file (its type proved by its bytes); keep those stored before.

    Returns ({material code: upload id}, [errors as `uploads.<code>`]). A file already
    accepted on an earlier try comes back as `u-<code>`; the service accepts only the
    applicant's own uploads not yet part of an application, so an id cannot be borrowed.
    """
    uploads, refused = {}, []
    for m in materials:
        if m["state"] not in ("upload", "held"):
            continue
        upload = request.FILES.get(f"m-{m['code']}")
        if upload is None:
            earlier = request.POST.get(f"u-{m['code']}", "")
            if earlier.isdigit():
                uploads[m["code"]] = int(earlier)
            continue
        if upload.size > services.MAX_UPLOAD_BYTES:
            refused.append(FieldError(f"uploads.{m['code']}", _("at most 5 MB")))
            continue
        try:
            uploads[m["code"]] = services.upload_store(
                actor=request.user, material=m["code"], filename=upload.name,
                content=upload.read()).pk
        except ValidationFailed as exc:
            refused += [FieldError(f"uploads.{m['code']}", e.message) for e in exc.errors]
    return uploads, refused


@login_required
@require_http_methods(["GET", "POST"])
def apply(request, code):
    if not may_apply(request.user):
        raise PermissionDenied(_("Only residents apply for bundled services."))
    base = _or_404(selectors.notice_build, actor=None, bundle=code)
    answers = _answers(request.POST if request.method == "POST" else request.GET, base["situations"])
    errors, values = {}, {}
    if request.method == "POST" and request.POST.get("action") == "consent":
        items = request.POST.getlist("consent")
        if items:
            try:
                services.consent_give(actor=request.user, data_items=items)
                messages.success(request, _("Thank you: what the city holds is filled in for you."))
            except ApplicationError as exc:
                messages.error(request, exc.detail)
        return redirect(request.path + "?" + "&".join(
            f"s-{k}={'yes' if v else 'no'}" for k, v in answers.items()))
    form = selectors.form_build(actor=request.user, bundle=code, answers=answers)
    names = {f"f-{f['code']}" for f in form["fields"]} | {f"m-{m['code']}" for m in form["materials"]}
    uploads: dict[str, int] = {}
    if request.method == "POST":
        values = {f["code"]: request.POST.get(f"f-{f['code']}", "") for f in form["fields"]}
        uploads, refused = _uploads_store(request, form["materials"])
        if refused:
            # A file was refused: nothing is submitted, and the typed values are checked
            # too, so every problem shows at once, each beside its field.
            _clean, field_errors = data_validate(form["fields"], values)
            errors = form_errors(ValidationFailed(refused + field_errors), names,
                                 prefixes=PREFIXES)
        else:
            try:
                application = services.application_submit(
                    actor=request.user, bundle=code, answers=answers, data=values,
                    uploads=uploads, idempotency_key=request.POST.get("idempotency_key", ""))
                messages.success(request, _("Submitted. Each department has its part."))
                return redirect("bundles:application", pk=application.pk)
            except ApplicationError as exc:
                errors = form_errors(exc, names, prefixes=PREFIXES)
    kept = {a.material.code: a for a in selectors.uploads_pending(actor=request.user,
                                                                  ids=uploads.values())}
    for f in form["fields"]:
        f["current"] = values.get(f["code"], f["value"])
        f["input"] = f"f-{f['code']}"
        f["choice_labels"] = choice_labels(f)
    for m in form["materials"]:
        m["input"] = f"m-{m['code']}"
        m["kept"] = kept.get(m["code"])
    return render(request, "bundles/apply.html", {
        "form": form, "bundle": base["bundle"], "answers": answers, "errors": errors,
        "today": timezone.localdate(),
        "key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        "pending_consents": [c for c in form["consents"] if not c["granted"]],
    }, status=422 if errors else 200)


@login_required
def application_list(request):
    apps = list(selectors.application_list_for(actor=request.user)[:100])
    return render(request, "bundles/applications.html", {"applications": apps})


@login_required
@require_http_methods(["GET", "POST"])
def application_detail(request, pk):
    application = _or_404(selectors.application_get_for, request.user, pk)
    if request.method == "POST":
        task = application.tasks.filter(pk=request.POST.get("task") or 0).select_related(
            "matter", "application").first()
        if task is None:
            raise Http404()
        data = {k[2:]: v for k, v in request.POST.items() if k.startswith("f-")}
        try:
            uploads = {}
            for key, upload in request.FILES.items():
                if key.startswith("m-"):
                    uploads[key[2:]] = services.upload_store(
                        actor=request.user, material=key[2:], filename=upload.name,
                        content=upload.read()).pk
            services.supplement_answer(actor=request.user, task=task, data=data, uploads=uploads)
            messages.success(request, _("Supplements sent."))
        except ApplicationError as exc:
            messages.error(request, " · ".join(str(e.message) for e in exc.errors) or exc.detail)
        return redirect("bundles:application", pk=application.pk)
    timeline = selectors.application_timeline(application)
    rows = []
    for t in timeline["tasks"]:
        open_request = next((s for s in t.supplements.all() if s.answered_at is None), None)
        rows.append({"task": t, "events": timeline["by_task"].get(t.pk, []), "supplement": open_request,
                     "supplement_items": _supplement_items(t, open_request)})
    return render(request, "bundles/application.html", {
        "application": application, "rows": rows, "general": timeline["general"]})


def _supplement_items(task, request) -> list[dict]:
    """What a department asks for, by label or name in the reader's language, not by code."""
    if request is None:
        return []
    names = {e.code: localized(e, "label") for e in task.matter.elements.all()}
    names.update({m.code: localized(m, "name") for m in task.matter.materials.all()})
    return [{**i, "label": names.get(i.get("code"), i.get("code", ""))} for i in request.items]


@login_required
def inbox(request):
    if not is_officer(request.user):
        raise PermissionDenied(_("Only department officers have an inbox."))
    status = request.GET.get("status", "open")
    try:
        tasks = list(selectors.inbox(actor=request.user, status=status)[:200])
    except ValidationFailed:
        raise Http404() from None
    overdue = list(selectors.overdue_for_lead(actor=request.user)[:50])
    statuses = [("open", _("Open (not yet decided)"))] + list(TaskStatus.choices)
    return render(request, "bundles/inbox.html", {"tasks": tasks, "overdue": overdue, "status": status,
                                                  "statuses": statuses})


# Each decision form's inputs, for errors beside them (the service names `items.<n>.note`).
TASK_INPUTS = {"reveal": ("purpose",), "approve": (), "reject": ("reason",),
               "supplement": ("note", "items")}


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request, pk):
    task = _or_404(selectors.task_get_for, request.user, pk)
    masked, failed, errors, status = True, "", {}, 200
    if request.method == "POST":
        action = request.POST.get("action") or ""
        try:
            if action == "reveal":
                services.task_reveal(actor=request.user, task=task, purpose=request.POST.get("purpose", ""))
                masked = False
            else:
                items = [{"kind": "element", "code": c, "note": ""} for c in request.POST.getlist("element")]
                items += [{"kind": "material", "code": c, "note": ""} for c in request.POST.getlist("material")]
                if request.POST.get("note", "").strip():
                    items.append({"kind": "note", "code": "", "note": request.POST["note"]})
                services.task_decide(actor=request.user, task=task, decision=action,
                                     reason=request.POST.get("reason", ""), items=items)
                messages.success(request, _("Decision recorded."))
                return redirect("bundles:task", pk=task.pk)
        except ValidationFailed as exc:
            failed, status = action if action in TASK_INPUTS else "", 422
            errors = form_errors(exc, TASK_INPUTS.get(action, ()),
                                 aliases={e.field: "note" for e in exc.errors
                                          if e.field.startswith("items.")})
        except ApplicationError as exc:
            messages.error(request, exc.detail)
    elements = list(task.matter.elements.all())
    data = task.application.data
    rows = [{"code": e.code, "label": localized(e, "label"),
             "value": choice_shown(e, value_mask(e.kind, e.code, data.get(e.code)) if masked
                                   else data.get(e.code, ""))}
            for e in elements if e.code in data]
    materials = list(task.matter.materials.all())
    attachments = [a for a in task.application.attachments.select_related("material", "certificate")
                   if a.material_id in {m.pk for m in materials}]
    response = render(request, "bundles/task.html", {
        "task": task, "rows": rows, "masked": masked, "elements": elements, "materials": materials,
        "attachments": attachments, "events": task.events.order_by("at", "id"),
        "may_decide": task.status == TaskStatus.READY, "failed": failed, "errors": errors,
        "kept": request.POST if failed else {}}, status=status)
    if not masked:
        response["Cache-Control"] = "no-store"
    return response


@login_required
def task_attachment(request, pk, attachment_id):
    """The officer deciding a task opens an uploaded material (audited by the service)."""
    task = _or_404(selectors.task_get_for, request.user, pk)
    found = _or_404(services.attachment_open, actor=request.user, task=task,
                    attachment_id=attachment_id)
    try:
        handle = found.file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404() from None
    # Served with the type proved at upload; inline for PDF and images, never cached.
    response = FileResponse(handle, content_type=found.content_type or "application/octet-stream",
                            filename=found.filename or "material", as_attachment=False)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
