"""Pages: citizens browse, read the notice, fill the one form, track; officers decide.

Views parse the request, call one selector or service, and render; an
ApplicationError is shown on the page (forms) or as the error page.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from zhili.bundles import selectors, services
from zhili.bundles.access import is_officer, may_apply
from zhili.bundles.forms import value_mask
from zhili.bundles.models import TaskStatus
from zhili.core.errors import ApplicationError, NotFound, ValidationFailed


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
    # Offer only the pages this user can open (an inbox is for department officers).
    return render(request, "bundles/list.html", {"events": events, "may_apply": may_apply(request.user),
                                                 "is_officer": is_officer(request.user)})


def notice(request, code):
    user = request.user if request.user.is_authenticated else None
    base = _or_404(selectors.notice_build, actor=None, bundle=code)
    answers = _answers(request.GET, base["situations"])
    data = selectors.notice_build(actor=user, bundle=code, answers=answers)
    return render(request, "bundles/notice.html", {"n": data, "query": request.GET.urlencode()})


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
    if request.method == "POST":
        values = {f["code"]: request.POST.get(f"f-{f['code']}", "") for f in form["fields"]}
        uploads = {}
        try:
            for m in form["materials"]:
                if m["state"] in ("upload", "held") and f"m-{m['code']}" in request.FILES:
                    upload = request.FILES[f"m-{m['code']}"]
                    if upload.size > services.MAX_UPLOAD_BYTES:
                        raise ValidationFailed({f"uploads.{m['code']}": _("at most 5 MB")})
                    uploads[m["code"]] = services.upload_store(
                        actor=request.user, material=m["code"], filename=upload.name,
                        content=upload.read()).pk
            application = services.application_submit(
                actor=request.user, bundle=code, answers=answers, data=values, uploads=uploads,
                idempotency_key=request.POST.get("idempotency_key", ""))
            messages.success(request, _("Submitted. Each department has its part."))
            return redirect("bundles:application", pk=application.pk)
        except ValidationFailed as exc:
            errors = {e.field.split(".", 1)[-1]: e.message for e in exc.errors}
        except ApplicationError as exc:
            messages.error(request, exc.detail)
    for f in form["fields"]:
        f["current"] = values.get(f["code"], f["value"])
        f["error"] = errors.get(f["code"], "")
    for m in form["materials"]:
        m["error"] = errors.get(m["code"], "")
    return render(request, "bundles/apply.html", {
        "form": form, "bundle": base["bundle"], "answers": answers,
        "key": request.POST.get("idempotency_key") or uuid.uuid4().hex,
        "pending_consents": [c for c in form["consents"] if not c["granted"]],
    })


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
            messages.error(request, exc.detail + " " + "; ".join(f"{e.field}: {e.message}" for e in exc.errors))
        return redirect("bundles:application", pk=application.pk)
    timeline = selectors.application_timeline(application)
    rows = []
    for t in timeline["tasks"]:
        open_request = next((s for s in t.supplements.all() if s.answered_at is None), None)
        rows.append({"task": t, "events": timeline["by_task"].get(t.pk, []), "supplement": open_request})
    return render(request, "bundles/application.html", {
        "application": application, "rows": rows, "general": timeline["general"]})


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
    return render(request, "bundles/inbox.html", {"tasks": tasks, "overdue": overdue, "status": status,
                                                  "statuses": ["open"] + list(TaskStatus.values)})


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request, pk):
    task = _or_404(selectors.task_get_for, request.user, pk)
    masked = True
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "reveal":
                services.task_reveal(actor=request.user, task=task, purpose=request.POST.get("purpose", ""))
                masked = False
            else:
                items = [{"kind": "element", "code": c, "note": ""} for c in request.POST.getlist("element")]
                items += [{"kind": "material", "code": c, "note": ""} for c in request.POST.getlist("material")]
                if request.POST.get("note", "").strip():
                    items.append({"kind": "note", "code": "", "note": request.POST["note"]})
                services.task_decide(actor=request.user, task=task, decision=action or "",
                                     reason=request.POST.get("reason", ""), items=items)
                messages.success(request, _("Decision recorded."))
                return redirect("bundles:task", pk=task.pk)
        except ApplicationError as exc:
            messages.error(request, exc.detail + " " + "; ".join(f"{e.field}: {e.message}" for e in exc.errors))
    elements = list(task.matter.elements.all())
    data = task.application.data
    rows = [{"code": e.code, "label": e.label,
             "value": value_mask(e.kind, e.code, data.get(e.code)) if masked else data.get(e.code, "")}
            for e in elements if e.code in data]
    materials = list(task.matter.materials.all())
    attachments = [a for a in task.application.attachments.select_related("material", "certificate")
                   if a.material_id in {m.pk for m in materials}]
    response = render(request, "bundles/task.html", {
        "task": task, "rows": rows, "masked": masked, "elements": elements, "materials": materials,
        "attachments": attachments, "events": task.events.order_by("at", "id"),
        "may_decide": task.status == TaskStatus.READY})
    if not masked:
        response["Cache-Control"] = "no-store"
    return response

