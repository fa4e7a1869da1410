"""/api/v1/bundles: every endpoint without permission, in its own area, in another area."""

from __future__ import annotations

import pytest

from zhili.audit.models import AuditEntry
from zhili.bundles import services
from zhili.bundles.models import Task, TaskStatus

PDF = b"%PDF-1.4 api test"


@pytest.fixture
def application(applicant, filled):
    payload = filled(applicant, "newborn")
    return services.application_submit(actor=applicant, **payload)


@pytest.fixture
def birth_task(application):
    return Task.objects.get(application=application, matter__code="birth-medical-certificate")


def test_catalogue_and_notice_are_public(db, api):
    listed = api.get("/bundles")
    assert listed.status_code == 200 and len(listed.json()) >= 10
    notice = api.post("/bundles/newborn/notice", {"answers": {"ss-card": False}})
    assert notice.status_code == 200
    assert "social-security-card-application" not in {m["code"] for m in notice.json()["matters"]}
    assert api.post("/bundles/no-such/notice", {}).status_code == 404
    bad = api.post("/bundles/newborn/notice", {"answers": {"ss-card": "maybe"}})
    assert bad.status_code == 422


def test_form_needs_login(api, bearer, applicant):
    assert api.post("/bundles/newborn/form", {}).status_code == 401
    response = api.post("/bundles/newborn/form", {}, headers=bearer(applicant))
    assert response.status_code == 200
    assert response.json()["fields"]


def test_consent_three_ways(api, bearer, applicant, officers):
    assert api.post("/bundles/consents", {"data_items": ["person.name"]}).status_code == 401
    assert api.post("/bundles/consents", {"data_items": ["person.name"]},
                    headers=bearer(officers["health"])).status_code == 403
    ok = api.post("/bundles/consents", {"data_items": ["person.name"]}, headers=bearer(applicant))
    assert ok.status_code == 200 and ok.json()["granted"] == ["person.name"]
    bad = api.post("/bundles/consents", {"data_items": ["person.salary"]}, headers=bearer(applicant))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "data_items.person.salary"


def test_upload_three_ways(client, bearer, applicant, officers):
    def post(headers, content=PDF):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return client.post("/api/v1/bundles/uploads",
                           {"material": "id-card", "file": SimpleUploadedFile("id.pdf", content)},
                           headers=headers)

    assert post({}).status_code == 401
    assert post(bearer(officers["health"])).status_code == 403
    ok = post(bearer(applicant))
    assert ok.status_code == 201 and len(ok.json()["sha256"]) == 64
    wrong = post(bearer(applicant), b"<html>not a pdf</html>")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "file"


def test_submit_three_ways_and_idempotent(api, bearer, applicant, officers, filled):
    payload = filled(applicant, "newborn")
    body = {k: v for k, v in payload.items() if k != "bundle"}
    assert api.post("/bundles/newborn/applications", body).status_code == 401
    assert api.post("/bundles/newborn/applications", body,
                    headers=bearer(officers["health"])).status_code == 403
    headers = bearer(applicant)
    first = api.post("/bundles/newborn/applications", body, headers=headers)
    assert first.status_code == 201
    again = api.post("/bundles/newborn/applications", body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    bad = api.post("/bundles/newborn/applications", {**body, "idempotency_key": "other-key-1",
                                                     "data": {**body["data"], "child-sex": "?"}},
                   headers=headers)
    assert bad.status_code == 422
    assert "data.child-sex" in {e["field"] for e in bad.json()["errors"]}


def test_applications_are_the_applicants_own(api, bearer, application, applicant, other_grid_worker):
    mine = api.get("/bundles/applications", headers=bearer(applicant))
    assert application.pk in {a["id"] for a in mine.json()["items"]}
    theirs = api.get("/bundles/applications", headers=bearer(other_grid_worker))
    assert application.pk not in {a["id"] for a in theirs.json()["items"]}
    detail = api.get(f"/bundles/applications/{application.pk}", headers=bearer(applicant))
    assert detail.status_code == 200 and len(detail.json()["tasks"]) == 7
    assert api.get(f"/bundles/applications/{application.pk}",
                   headers=bearer(other_grid_worker)).status_code == 404
    assert api.get(f"/bundles/applications/{application.pk}").status_code == 401
    assert api.post(f"/bundles/applications/{application.pk}/tasks/1/supplement", {},
                    headers=bearer(other_grid_worker)).status_code == 404


def test_inbox_three_ways(api, bearer, birth_task, applicant, officers, other_area_officer):
    assert api.get("/bundles/inbox", headers=bearer(applicant)).status_code == 403
    own = api.get("/bundles/inbox", headers=bearer(officers["health"]))
    assert own.status_code == 200 and birth_task.pk in {t["id"] for t in own.json()["items"]}
    elsewhere = api.get("/bundles/inbox", headers=bearer(other_area_officer))
    assert elsewhere.status_code == 200 and birth_task.pk not in {t["id"] for t in elsewhere.json()["items"]}
    other_dept = api.get("/bundles/inbox", headers=bearer(officers["public-security"]))
    assert birth_task.pk not in {t["id"] for t in other_dept.json()["items"]}
    assert api.get("/bundles/inbox?status=bogus", headers=bearer(officers["health"])).status_code == 422


def test_task_detail_is_masked_and_reveal_is_audited(api, bearer, birth_task, officers,
                                                      other_area_officer, applicant):
    path = f"/bundles/tasks/{birth_task.pk}"
    assert api.get(path, headers=bearer(applicant)).status_code == 404
    assert api.get(path, headers=bearer(other_area_officer)).status_code == 404
    assert api.get(path, headers=bearer(officers["public-security"])).status_code == 404
    masked = api.get(path, headers=bearer(officers["health"]))
    assert masked.status_code == 200 and masked.json()["masked"]
    assert "*" in masked.json()["data"]["mother-id"]
    before = AuditEntry.objects.filter(action="bundles.task_reveal").count()
    assert api.post(f"{path}/reveal", {"purpose": "x"}, headers=bearer(officers["health"])).status_code == 422
    full = api.post(f"{path}/reveal", {"purpose": "核对出生医学证明信息"}, headers=bearer(officers["health"]))
    assert full.status_code == 200 and "*" not in full.json()["data"]["mother-id"]
    assert full["Cache-Control"] == "no-store"
    assert AuditEntry.objects.filter(action="bundles.task_reveal").count() == before + 1
    assert api.post(f"{path}/reveal", {"purpose": "核对信息"},
                    headers=bearer(other_area_officer)).status_code == 404


def test_decision_three_ways(api, bearer, birth_task, officers, other_area_officer, applicant):
    path = f"/bundles/tasks/{birth_task.pk}/decision"
    assert api.post(path, {"decision": "approve"}).status_code == 401
    assert api.post(path, {"decision": "approve"}, headers=bearer(applicant)).status_code == 404
    assert api.post(path, {"decision": "approve"}, headers=bearer(other_area_officer)).status_code == 404
    assert api.post(path, {"decision": "maybe"}, headers=bearer(officers["health"])).status_code == 422
    ok = api.post(path, {"decision": "approve"}, headers=bearer(officers["health"]))
    assert ok.status_code == 200 and ok.json()["status"] == TaskStatus.APPROVED
    assert ok.json()["output_number"]
    again = api.post(path, {"decision": "approve"}, headers=bearer(officers["health"]))
    assert again.status_code == 409


def test_overdue_and_metrics(api, bearer, applicant, officers):
    assert api.get("/bundles/overdue", headers=bearer(applicant)).status_code == 403
    assert api.get("/bundles/overdue", headers=bearer(officers["health"])).status_code == 200
    assert api.get("/bundles/metrics").status_code == 401
    metrics = api.get("/bundles/metrics", headers=bearer(applicant)).json()
    assert metrics["catalogue"]["overall"]["bundles"] >= 10
    assert 0 < metrics["catalogue"]["overall"]["materials_reduction"] < 1


def test_the_openapi_document_lists_the_bundle_endpoints(api, db):
    document = api.get("/openapi.json").json()
    paths = [p for p in document["paths"] if p.startswith("/api/v1/bundles")]
    assert len(paths) >= 13


def test_supplement_answer_three_ways(api, bearer, birth_task, application, applicant, officers,
                                      other_grid_worker):
    services.task_decide(actor=officers["health"], task=birth_task, decision="supplement",
                         items=[{"kind": "element", "code": "birth-hospital", "note": "全称"}])
    path = f"/bundles/applications/{application.pk}/tasks/{birth_task.pk}/supplement"
    body = {"data": {"birth-hospital": "重庆市妇幼保健院"}}
    assert api.post(path, body).status_code == 401
    assert api.post(path, body, headers=bearer(other_grid_worker)).status_code == 404
    assert api.post(path, {"data": {}}, headers=bearer(applicant)).status_code == 422
    ok = api.post(path, body, headers=bearer(applicant))
    assert ok.status_code == 200
    assert {t["matter"]: t["status"] for t in ok.json()["tasks"]}["birth-medical-certificate"] == "ready"
    assert api.post(path, body, headers=bearer(applicant)).status_code == 409
