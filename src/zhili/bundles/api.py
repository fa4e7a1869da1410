"""/api/v1/bundles: the catalogue, the one notice and form, applications, department inboxes.

Thin: parse, call one selector or service, serialise.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from zhili.accounts.auth import optional_auth
from zhili.bundles import selectors, services
from zhili.bundles.forms import value_mask
from zhili.bundles.models import TaskStatus
from zhili.bundles.schemas import (
    ERRORS,
    WRITE_ERRORS,
    AnswersIn,
    ApplicationDetail,
    ApplicationOut,
    ApplicationPage,
    BundleOut,
    BundleTaskOut,
    ConsentGiveIn,
    ConsentGivenOut,
    DecisionIn,
    InboxPage,
    SubmitIn,
    SupplementAnswerIn,
    TaskDetail,
    TaskRevealIn,
    UploadOut,
)
from zhili.core.errors import NotAuthenticated, invalid
from zhili.core.pagination import PageParams, paginate

router = Router(tags=["bundles"])


def _user(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


@router.get("", response=list[BundleOut], auth=optional_auth, summary="The published bundles")
def bundle_list(request, life_event: str = ""):
    return list(selectors.bundle_list(life_event=life_event))


@router.post("/{code}/notice", response={200: dict, **ERRORS}, auth=optional_auth,
             summary="The one notice for these answers")
def notice(request, code: str, payload: AnswersIn):
    """Anonymous callers see the notice without what the city already holds for them."""
    return selectors.notice_build(actor=_user(request), bundle=code, answers=payload.answers)


@router.post("/{code}/form", response={200: dict, **ERRORS}, summary="The one form, prefilled")
def form(request, code: str, payload: AnswersIn):
    return selectors.form_build(actor=request.user, bundle=code, answers=payload.answers)


@router.post("/consents", response={200: ConsentGivenOut, **WRITE_ERRORS},
             summary="Allow prefill and reuse of your own registry data")
def consent(request, payload: ConsentGiveIn):
    return {"granted": services.consent_give(actor=request.user, data_items=payload.data_items)}


@router.post("/uploads", response={201: UploadOut, **WRITE_ERRORS},
             summary="Upload a material (PDF, PNG or JPEG, at most 5 MB)")
def upload(request, material: Form[str], file: File[UploadedFile]):
    if file.size is not None and file.size > services.MAX_UPLOAD_BYTES:
        raise invalid("file", _("must be at most %(n)d MB") % {"n": 5})
    content = file.read(services.MAX_UPLOAD_BYTES + 1)
    return Status(201, services.upload_store(actor=request.user, material=material,
                                             filename=file.name or "", content=content))


@router.post("/{code}/applications", response={201: ApplicationOut, 200: ApplicationOut, **WRITE_ERRORS},
             summary="Submit the one form: one task per matter")
def submit(request, code: str, payload: SubmitIn):
    before = selectors.Application.objects.filter(
        applicant=request.user, idempotency_key=payload.idempotency_key).exists()
    application = services.application_submit(
        actor=request.user, bundle=code, answers=payload.answers, data=payload.data,
        uploads=payload.uploads, idempotency_key=payload.idempotency_key)
    return Status(200 if before else 201, application)


@router.get("/applications", response={200: ApplicationPage, **ERRORS}, summary="Your applications")
def application_list(request, page: Query[PageParams]):
    return paginate(selectors.application_list_for(actor=request.user), page)


def _detail(application) -> dict:
    timeline = selectors.application_timeline(application)
    return {
        "application": application, "tasks": timeline["tasks"],
        "events": timeline["events"],
        "supplements": [{"id": s.pk, "task_id": t.pk, "items": s.items, "answered": s.answered_at is not None}
                        for t in timeline["tasks"] for s in t.supplements.all()],
    }


@router.get("/applications/{application_id}", response={200: ApplicationDetail, **ERRORS},
            summary="Your application: its timeline per matter")
def application_detail(request, application_id: int):
    return _detail(selectors.application_get_for(request.user, application_id))


@router.post("/applications/{application_id}/tasks/{task_id}/supplement",
             response={200: ApplicationDetail, **WRITE_ERRORS},
             summary="Answer a supplement request, every item at once")
def supplement_answer(request, application_id: int, task_id: int, payload: SupplementAnswerIn):
    application = selectors.application_get_for(request.user, application_id)
    task = application.tasks.filter(pk=task_id).select_related("matter", "application").first()
    if task is None:
        raise selectors.NotFound()
    services.supplement_answer(actor=request.user, task=task, data=payload.data, uploads=payload.uploads)
    return _detail(application)


# "open" is ready or waiting for a supplement; declared so OpenAPI lists the values.
InboxStatus = Literal[("open", *TaskStatus.values)]


class InboxFilter(Schema):
    status: InboxStatus = "ready"


@router.get("/inbox", response={200: InboxPage, **ERRORS}, summary="Your department's tasks")
def inbox(request, filters: Query[InboxFilter], page: Query[PageParams]):
    return paginate(selectors.inbox(actor=request.user, status=filters.status), page)


@router.get("/overdue", response={200: InboxPage, **ERRORS},
            summary="Overdue tasks of bundles your department leads")
def overdue(request, page: Query[PageParams]):
    return paginate(selectors.overdue_for_lead(actor=request.user), page)


def task_view(task, *, masked: bool) -> dict:
    elements = {e.code: e for e in task.matter.elements.all()}
    data = task.application.data
    shown = {code: (value_mask(e.kind, code, data.get(code)) if masked else str(data.get(code, "")))
             for code, e in elements.items() if code in data}
    materials = [{"material": a.material.code, "certificate": a.certificate_id, "sha256": a.sha256,
                  "size": a.size, "content_type": a.content_type}
                 for a in task.application.attachments.select_related("material")
                 if a.material_id in {m.pk for m in task.matter.materials.all()}]
    return {"task": task, "data": shown, "materials": materials, "masked": masked}


@router.get("/tasks/{task_id}", response={200: TaskDetail, **ERRORS},
            summary="A task with the applicant's data (masked)")
def task_detail(request, task_id: int):
    return task_view(selectors.task_get_for(request.user, task_id), masked=True)


@router.post("/tasks/{task_id}/reveal", response={200: TaskDetail, **WRITE_ERRORS},
             summary="The applicant's data in full, for a stated purpose (audited)")
def task_reveal(request, response: HttpResponse, task_id: int, payload: TaskRevealIn):
    task = selectors.task_get_for(request.user, task_id)
    services.task_reveal(actor=request.user, task=task, purpose=payload.purpose)
    response["Cache-Control"] = "no-store"  # unmasked personal data must not be cached
    return task_view(task, masked=False)


@router.post("/tasks/{task_id}/decision", response={200: BundleTaskOut, **WRITE_ERRORS},
             summary="Approve, reject (with a reason) or ask for supplements")
def decide(request, task_id: int, payload: DecisionIn):
    task = selectors.task_get_for(request.user, task_id)
    return services.task_decide(actor=request.user, task=task, decision=payload.decision,
                                reason=payload.reason, items=payload.items)


@router.get("/metrics", response={200: dict, **ERRORS}, summary="Catalogue and observed metrics")
def metrics(request):
    if _user(request) is None:
        raise NotAuthenticated()
    from zhili.bundles.metrics import catalogue_metrics, observed_metrics

    return {"catalogue": catalogue_metrics(), "observed": observed_metrics()}
