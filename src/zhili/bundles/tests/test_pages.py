"""Pages: who may open what; the citizen's form flow and the officer's decision over HTTP."""

from __future__ import annotations

import pytest

from zhili.bundles import services
from zhili.bundles.models import Application, Task, TaskStatus


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def test_browse_and_notice_are_public(client, db):
    assert client.get("/bundles/").status_code == 200
    page = client.get("/bundles/b/newborn/?s-ss-card=no")
    assert page.status_code == 200
    assert "social-security-card-application" not in page.content.decode()
    assert client.get("/bundles/b/no-such/").status_code == 404


def test_apply_needs_a_resident(client, login, officers, db):
    assert client.get("/bundles/b/newborn/apply/").status_code == 302  # to the login page
    assert login(officers["health"]).get("/bundles/b/newborn/apply/").status_code == 403


def test_the_one_form_flow_over_http(login, applicant, filled):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login(applicant)
    page = client.get("/bundles/b/newborn/apply/")
    assert page.status_code == 200 and 'id="consent"' in page.content.decode()
    # Consent inside the form: afterwards the name is filled in from the registry.
    response = client.post("/bundles/b/newborn/apply/", {
        "action": "consent", "consent": ["person.name", "certificate:marriage-certificate"]})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'data-prefilled="applicant-name"' in page
    payload = filled(applicant, "newborn")
    post = {"action": "submit", "idempotency_key": payload["idempotency_key"]}
    post.update({f"f-{k}": v for k, v in payload["data"].items()})
    for code in payload["uploads"]:
        post[f"m-{code}"] = SimpleUploadedFile(f"{code}.pdf", b"%PDF-1.4 page test")
    bad = dict(post, **{"f-child-birth-date": "not a date"})
    page = client.post("/bundles/b/newborn/apply/", bad)
    assert page.status_code == 422 and 'data-error-for="f-child-birth-date"' in page.content.decode()
    for code in payload["uploads"]:
        post[f"m-{code}"] = SimpleUploadedFile(f"{code}.pdf", b"%PDF-1.4 page test")
    response = client.post("/bundles/b/newborn/apply/", post)
    assert response.status_code == 302
    application = Application.objects.get(applicant=applicant, idempotency_key=payload["idempotency_key"])
    timeline = client.get(f"/bundles/applications/{application.pk}/")
    assert timeline.status_code == 200 and 'data-task="birth-medical-certificate"' in timeline.content.decode()
    assert client.get("/bundles/applications/").status_code == 200


def test_applications_are_private(login, applicant, filled, other_grid_worker):
    application = services.application_submit(actor=applicant, **filled(applicant, "newborn"))
    assert login(other_grid_worker).get(f"/bundles/applications/{application.pk}/").status_code == 404


def test_officer_pages_three_ways(login, applicant, filled, officers, other_area_officer, resident):
    application = services.application_submit(actor=applicant, **filled(applicant, "newborn"))
    task = Task.objects.get(application=application, matter__code="birth-medical-certificate")
    assert login(resident).get("/bundles/inbox/").status_code == 403
    assert login(other_area_officer).get(f"/bundles/tasks/{task.pk}/").status_code == 404
    client = login(officers["health"])
    inbox = client.get("/bundles/inbox/")
    assert inbox.status_code == 200 and f"/bundles/tasks/{task.pk}/" in inbox.content.decode()
    page = client.get(f"/bundles/tasks/{task.pk}/")
    assert page.status_code == 200 and "****" in page.content.decode()
    revealed = client.post(f"/bundles/tasks/{task.pk}/", {"action": "reveal", "purpose": "核对出生信息"})
    assert revealed["Cache-Control"] == "no-store"
    refused = client.post(f"/bundles/tasks/{task.pk}/", {"action": "reject", "reason": ""})
    assert refused.status_code == 422 and 'data-error-for="reason"' in refused.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.READY
    assert client.post(f"/bundles/tasks/{task.pk}/", {"action": "approve"}).status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.APPROVED


def test_supplement_answered_on_the_page(login, applicant, filled, officers):
    application = services.application_submit(actor=applicant, **filled(applicant, "newborn"))
    task = Task.objects.select_related("matter", "department", "application").get(
        application=application, matter__code="birth-medical-certificate")
    services.task_decide(actor=officers["health"], task=task, decision="supplement",
                         items=[{"kind": "element", "code": "birth-hospital", "note": "全称"}])
    client = login(applicant)
    page = client.get(f"/bundles/applications/{application.pk}/").content.decode()
    assert "data-supplement" in page
    client.post(f"/bundles/applications/{application.pk}/", {"task": task.pk, "f-birth-hospital": "重庆医院"})
    task.refresh_from_db()
    assert task.status == TaskStatus.READY
