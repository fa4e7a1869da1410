"""Use cases: submission, release, decisions, supplements, uploads, overdue flags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from zhili.bundles import selectors, services
from zhili.bundles.models import (
    Application,
    ApplicationStatus,
    Attachment,
    Event,
    EventKind,
    Task,
    TaskStatus,
)
from zhili.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from zhili.registry.models import Certificate

NEWBORN_ALL = {"ss-card": True, "birth-costs": True, "subsidy": True}


def submit(payload, user):
    return services.application_submit(actor=user, **payload)


def tasks_of(application) -> dict[str, Task]:
    return {t.matter.code: t for t in Task.objects.filter(application=application).select_related(
        "matter", "department", "application")}


def decide_ready(application, officers, decision="approve", only=None, **kw):
    for code, task in tasks_of(application).items():
        if task.status == TaskStatus.READY and (only is None or code in only):
            services.task_decide(actor=officers[task.department.code], task=task, decision=decision, **kw)


def test_the_notice_lists_matters_materials_and_promised_time(applicant):
    notice = selectors.notice_build(actor=applicant, bundle="newborn", answers=NEWBORN_ALL)
    codes = [m["code"] for m in notice["matters"]]
    assert codes[0] == "birth-medical-certificate" and len(codes) == 8
    states = {m["code"]: m["state"] for m in notice["materials"]}
    assert states["birth-medical-certificate"] == "produced"  # issued on the way
    assert states["marriage-certificate"] == "held"  # the city holds it; consent not yet given
    assert states["medical-invoice"] == "upload"
    assert 0 < notice["promised_days"] < notice["separate_days"]
    fewer = selectors.notice_build(actor=applicant, bundle="newborn",
                                   answers={"ss-card": False, "birth-costs": False, "subsidy": False})
    assert len(fewer["matters"]) == 5
    # A situation can exclude, too: a settled housing fund drops the withdrawal.
    retirement = selectors.notice_build(actor=applicant, bundle="retirement", answers={"fund-settled": True})
    assert "housing-fund-retirement-withdrawal" not in {m["code"] for m in retirement["matters"]}
    retirement = selectors.notice_build(actor=applicant, bundle="retirement")
    assert "housing-fund-retirement-withdrawal" in {m["code"] for m in retirement["matters"]}


def test_the_form_asks_each_element_once_and_prefills_after_consent(applicant):
    form = selectors.form_build(actor=applicant, bundle="newborn", answers=NEWBORN_ALL)
    codes = [f["code"] for f in form["fields"]]
    assert len(codes) == len(set(codes))
    assert not any(f["prefilled"] for f in form["fields"])
    items = [c["data_item"] for c in form["consents"]]
    assert "person.name" in items and "certificate:marriage-certificate" in items
    services.consent_give(actor=applicant, data_items=items)
    form = selectors.form_build(actor=applicant, bundle="newborn", answers=NEWBORN_ALL)
    prefilled = {f["code"]: f["value"] for f in form["fields"] if f["prefilled"]}
    assert prefilled["applicant-name"] == "李明"
    assert {m["code"]: m["state"] for m in form["materials"]}["marriage-certificate"] == "reused"


def test_submission_creates_one_task_per_matter_and_only_roots_are_ready(applicant, filled):
    application = submit(filled(applicant, "newborn", NEWBORN_ALL), applicant)
    tasks = tasks_of(application)
    assert len(tasks) == 8
    ready = {c for c, t in tasks.items() if t.status == TaskStatus.READY}
    assert ready == {"birth-medical-certificate"}
    assert tasks["birth-medical-certificate"].due_at > timezone.now()
    # The marriage certificate the city holds was attached, not uploaded.
    reused = Attachment.objects.filter(application=application, certificate__isnull=False)
    assert {a.material.code for a in reused} >= {"marriage-certificate", "household-register-booklet"}


def test_the_newborn_bundle_runs_in_dependency_order_and_issues_certificates(applicant, officers, filled):
    application = submit(filled(applicant, "newborn", NEWBORN_ALL), applicant)
    before = Certificate.objects.filter(person__id_number=application.person.id_number).count()
    seen_ready = []
    for _ in range(6):
        tasks = tasks_of(application)
        seen_ready.append({c for c, t in tasks.items() if t.status == TaskStatus.READY})
        decide_ready(application, officers)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.COMPLETED
    assert seen_ready[0] == {"birth-medical-certificate"}
    assert "household-birth-registration" in seen_ready[1]
    assert {"resident-medical-insurance-enrolment", "social-security-card-application"} <= seen_ready[2]
    issued = set(Certificate.objects.filter(person=application.person).values_list("cert_type", flat=True))
    assert {"birth-medical-certificate", "household-register", "medical-insurance-certificate",
            "social-security-card"} <= issued
    assert Certificate.objects.filter(person=application.person).count() >= before + 4
    assert all(t.output_number for t in tasks_of(application).values() if t.matter.output_cert_type)
    assert Event.objects.filter(application=application, kind=EventKind.COMPLETED).count() == 1


def test_a_rejection_keeps_the_others_and_cancels_only_its_dependants(applicant, officers, filled):
    application = submit(filled(applicant, "newborn", NEWBORN_ALL), applicant)
    decide_ready(application, officers)  # birth certificate approved
    decide_ready(application, officers, decision="reject", only={"household-birth-registration"},
                 reason="户口簿信息不一致")
    tasks = tasks_of(application)
    assert tasks["birth-medical-certificate"].status == TaskStatus.APPROVED
    assert tasks["household-birth-registration"].status == TaskStatus.REJECTED
    assert tasks["household-birth-registration"].reason == "户口簿信息不一致"
    assert tasks["social-security-card-application"].status == TaskStatus.CANCELLED
    assert tasks["maternity-cost-reimbursement"].status == TaskStatus.READY
    for _ in range(3):
        decide_ready(application, officers)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PARTLY_REJECTED


def test_reject_needs_a_reason(applicant, officers, filled):
    application = submit(filled(applicant, "newborn"), applicant)
    task = tasks_of(application)["birth-medical-certificate"]
    with pytest.raises(ValidationFailed) as exc:
        services.task_decide(actor=officers["health"], task=task, decision="reject", reason="")
    assert exc.value.errors[0].field == "reason"
    task.refresh_from_db()
    assert task.status == TaskStatus.READY


def test_only_the_tasks_department_decides(applicant, officers, filled, other_area_officer):
    application = submit(filled(applicant, "newborn"), applicant)
    task = tasks_of(application)["birth-medical-certificate"]
    with pytest.raises(PermissionDenied):
        services.task_decide(actor=officers["public-security"], task=task, decision="approve")
    with pytest.raises(PermissionDenied):
        services.task_decide(actor=other_area_officer, task=task, decision="approve")
    with pytest.raises(NotFound):
        selectors.task_get_for(other_area_officer, task.pk)
    blocked = tasks_of(application)["household-birth-registration"]
    with pytest.raises(Conflict):
        services.task_decide(actor=officers["public-security"], task=blocked, decision="approve")


def test_supplements_are_asked_at_once_and_answered_once(applicant, officers, filled):
    application = submit(filled(applicant, "newborn"), applicant)
    task = tasks_of(application)["birth-medical-certificate"]
    items = [{"kind": "element", "code": "birth-hospital", "note": "请写全称"},
             {"kind": "material", "code": "id-card", "note": ""},
             {"kind": "note", "code": "", "note": "请核对父亲信息"}]
    services.task_decide(actor=officers["health"], task=task, decision="supplement", items=items)
    task.refresh_from_db()
    assert task.status == TaskStatus.SUPPLEMENT
    with pytest.raises(ValidationFailed) as exc:
        services.supplement_answer(actor=applicant, task=task, data={})
    assert {e.field for e in exc.value.errors} == {"data.birth-hospital", "uploads.id-card"}
    upload = services.upload_store(actor=applicant, material="id-card", filename="id.png",
                                   content=b"\x89PNG\r\n\x1a\n" + b"0" * 20)
    services.supplement_answer(actor=applicant, task=task, data={"birth-hospital": "重庆市妇幼保健院"},
                               uploads={"id-card": upload.pk})
    task.refresh_from_db()
    application.refresh_from_db()
    assert task.status == TaskStatus.READY
    assert application.data["birth-hospital"] == "重庆市妇幼保健院"
    with pytest.raises(Conflict):
        services.supplement_answer(actor=applicant, task=task, data={"birth-hospital": "x"})


def test_bad_supplement_items_name_the_item(applicant, officers, filled):
    application = submit(filled(applicant, "newborn"), applicant)
    task = tasks_of(application)["birth-medical-certificate"]
    with pytest.raises(ValidationFailed) as exc:
        services.task_decide(actor=officers["health"], task=task, decision="supplement",
                             items=[{"kind": "element", "code": "load-kw"}])
    assert exc.value.errors[0].field == "items.0.code"
    with pytest.raises(ValidationFailed):
        services.task_decide(actor=officers["health"], task=task, decision="supplement", items=[])


def test_double_submission_returns_the_same_application(applicant, filled):
    payload = filled(applicant, "newborn")
    first = submit(payload, applicant)
    count = Task.objects.count()
    again = submit(payload, applicant)
    assert again.pk == first.pk and Task.objects.count() == count
    with pytest.raises(Conflict):
        submit({**payload, "bundle": "retirement"}, applicant)


def test_invalid_values_and_missing_materials_write_nothing(applicant, filled):
    payload = filled(applicant, "newborn", NEWBORN_ALL)
    payload["data"]["child-birth-date"] = "2026-13-40"
    payload["data"]["mother-id"] = "500103199001011235"
    payload["data"]["unknown"] = "x"
    payload["uploads"].pop("medical-invoice")
    before = (Application.objects.count(), Task.objects.count(), Event.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        submit(payload, applicant)
    fields = {e.field for e in exc.value.errors}
    assert {"data.child-birth-date", "data.mother-id", "data.unknown", "uploads.medical-invoice"} <= fields
    assert (Application.objects.count(), Task.objects.count(), Event.objects.count()) == before


def test_unknown_situation_answers_are_refused(applicant, filled):
    payload = filled(applicant, "newborn")
    payload["answers"] = {"twins": True}
    with pytest.raises(ValidationFailed) as exc:
        submit(payload, applicant)
    assert exc.value.errors[0].field == "answers.twins"


@pytest.mark.parametrize("content, message", [
    (b"MZ\x90\x00 not a document", "PDF, PNG or JPEG"),
    (b"", "empty"),
    (b"%PDF-" + b"0" * services.MAX_UPLOAD_BYTES, "at most"),
])
def test_uploads_are_type_checked_and_size_limited(applicant, content, message):
    with pytest.raises(ValidationFailed) as exc, translation.override("en"):
        services.upload_store(actor=applicant, material="id-card", filename="x.exe", content=content)
    assert message in exc.value.errors[0].message


def test_uploads_are_stored_with_their_checksum(applicant):
    import hashlib

    content = b"%PDF-1.4 test document"
    upload = services.upload_store(actor=applicant, material="id-card", filename="id.pdf", content=content)
    assert upload.sha256 == hashlib.sha256(content).hexdigest()
    assert upload.size == len(content) and upload.content_type == "application/pdf"
    with upload.file.open("rb") as handle:
        assert handle.read() == content


def test_officers_cannot_apply(department_officer):
    with pytest.raises(PermissionDenied):
        services.upload_store(actor=department_officer, material="id-card", filename="a", content=b"%PDF-")


def test_release_is_idempotent_and_repairs_a_lost_release(applicant, officers, filled):
    application = submit(filled(applicant, "newborn"), applicant)
    task = tasks_of(application)["birth-medical-certificate"]
    services.task_decide(actor=officers["health"], task=task, decision="approve")
    # Simulate a crash that lost the release: put the dependants back to blocked.
    Task.objects.filter(application=application, status=TaskStatus.READY).update(
        status=TaskStatus.BLOCKED, ready_at=None, due_at=None)
    assert services.application_release(application_id=application.pk) >= 1
    first = {c: t.status for c, t in tasks_of(application).items()}
    assert services.application_release(application_id=application.pk) == 0
    assert {c: t.status for c, t in tasks_of(application).items()} == first
    assert first["household-birth-registration"] == TaskStatus.READY


def test_the_release_task_runs_the_release(applicant, officers, filled):
    from zhili.bundles.tasks import release_application, release_sweep

    application = submit(filled(applicant, "newborn"), applicant)
    services.task_decide(actor=officers["health"], task=tasks_of(application)["birth-medical-certificate"],
                         decision="approve")
    Task.objects.filter(application=application, status=TaskStatus.READY).update(status=TaskStatus.BLOCKED)
    assert release_sweep.call() >= 1
    assert release_application.call(application.pk) == 0


def test_overdue_tasks_are_flagged_to_the_lead_department_once(applicant, officers, filled):
    application = submit(filled(applicant, "newborn"), applicant)
    Task.objects.filter(application=application, status=TaskStatus.READY).update(
        due_at=timezone.now() - timedelta(hours=1))
    assert services.overdue_flag() >= 1
    assert services.overdue_flag() == 0
    lead = officers["health"]  # health leads the newborn bundle
    assert application.pk in {t.application_id for t in selectors.overdue_for_lead(actor=lead)}
    assert not selectors.overdue_for_lead(actor=officers["hrss"]).filter(application=application).exists()


def test_working_days_skip_weekends():
    from datetime import datetime

    friday = datetime(2026, 11, 27, 10, 0)
    assert services.working_days_after(friday, 1).weekday() == 0  # Monday
    assert (services.working_days_after(friday, 5) - friday).days == 7


def test_applications_are_seen_only_by_their_applicant(applicant, filled, other_grid_worker):
    application = submit(filled(applicant, "newborn"), applicant)
    assert selectors.application_get_for(applicant, application.pk) == application
    with pytest.raises(NotFound):
        selectors.application_get_for(other_grid_worker, application.pk)
