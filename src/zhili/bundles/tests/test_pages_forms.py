"""The one form and the pages around it as people meet them: a refused file said beside its
material, what was typed and uploaded kept, impossible dates refused, catalogue content in
English on the English pages, the officer opening the uploaded ID card."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from zhili.bundles import services
from zhili.bundles.demo import PDF
from zhili.bundles.models import Application, Task

APPLY = "/bundles/b/newborn/apply/"


@pytest.fixture
def login(client):
    def as_user(user, *, lang="en"):
        client.force_login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
        return client

    return as_user


def errors_beside(page: str, name: str) -> list[str]:
    found = re.search(rf'<ul class="field-errors" role="alert" data-error-for="{re.escape(name)}">'
                      r"(.*?)</ul>", page, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []


def one_form_post(applicant, filled) -> tuple[dict, dict]:
    """A complete POST of the newborn form (registry items consented), and its payload."""
    payload = filled(applicant, "newborn")
    post = {"action": "submit", "idempotency_key": payload["idempotency_key"]}
    post.update({f"f-{k}": v for k, v in payload["data"].items()})
    return post, payload


def test_a_text_file_named_jpg_is_refused_beside_its_material_and_the_rest_is_kept(
        login, applicant, filled):
    post, payload = one_form_post(applicant, filled)
    codes = list(payload["uploads"])
    assert "id-card" in codes
    post["m-id-card"] = SimpleUploadedFile("id.jpg", b"just some text", content_type="image/jpeg")
    for code in codes[1:]:
        post[f"m-{code}"] = SimpleUploadedFile(f"{code}.pdf", PDF, content_type="application/pdf")
    post["f-child-name"] = "李小明"
    client = login(applicant)
    response = client.post(APPLY, post)
    assert response.status_code == 422
    page = response.content.decode()
    assert errors_beside(page, "m-id-card") == ["must be a PDF, PNG or JPEG file"]
    assert 'value="李小明"' in page  # typed values stay
    assert not Application.objects.filter(idempotency_key=payload["idempotency_key"]).exists()
    # The files that were fine are kept: sent back as u-<code>, not to be chosen again.
    kept = dict(re.findall(r'<input type="hidden" name="u-([\w-]+)" value="(\d+)">', page))
    assert set(kept) == set(codes[1:])
    again = {k: v for k, v in post.items() if not k.startswith("m-")}
    again.update({f"u-{code}": pk for code, pk in kept.items()})
    again["m-id-card"] = SimpleUploadedFile("id.pdf", PDF, content_type="application/pdf")
    response = client.post(APPLY, again)
    assert response.status_code == 302
    application = Application.objects.get(idempotency_key=payload["idempotency_key"])
    assert set(application.attachments.values_list("material__code", flat=True)) >= set(codes)


def test_someone_elses_upload_cannot_be_borrowed(login, applicant, filled, grid):
    from zhili.accounts.roles import Role
    from zhili.accounts.services import role_assign, user_create

    other = user_create(username="resident-borrow", password=None)
    role_assign(user=other, role=Role.RESIDENT, area=grid)
    post, payload = one_form_post(applicant, filled)
    theirs = services.upload_store(actor=other, material="id-card", filename="x.pdf", content=PDF)
    post.update({f"u-{code}": pk for code, pk in payload["uploads"].items()})
    post["u-id-card"] = str(theirs.pk)
    response = login(applicant).post(APPLY, post)
    assert response.status_code == 422
    assert errors_beside(response.content.decode(), "m-id-card")


def test_a_birth_date_in_the_future_is_refused(login, applicant, filled):
    post, payload = one_form_post(applicant, filled)
    post.update({f"u-{code}": pk for code, pk in payload["uploads"].items()})
    post["f-child-birth-date"] = (timezone.localdate() + timedelta(days=1500)).isoformat()
    response = login(applicant).post(APPLY, post)
    assert response.status_code == 422
    page = response.content.decode()
    assert errors_beside(page, "f-child-birth-date") == ["must be today or earlier"]
    assert f'max="{timezone.localdate():%Y-%m-%d}"' in page
    with pytest.raises(Exception) as refused:
        services.application_submit(actor=applicant, **{
            **payload, "data": {**payload["data"], "child-birth-date": "2030-01-01"}})
    assert "data.child-birth-date" in {e.field for e in refused.value.errors}


def test_the_english_pages_read_in_english(login, client, applicant, filled):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    listing = client.get("/bundles/").content.decode()
    assert "Having a child" in listing and ">birth<" not in listing
    assert "Newborn birth" in listing and "新生儿出生一件事" not in listing
    notice = client.get("/bundles/b/newborn/").content.decode()
    assert "Medical Certificate of Birth" in notice
    assert "Maternal and Infant Health Care Law of the PRC, Article 23" in notice
    assert "《" not in notice  # no Chinese legal basis
    assert "assumed" not in notice.lower()  # the maintainers' note is not for residents
    page = login(applicant).get(APPLY).content.decode()
    assert '<option value="男">Male</option>' in page and '<option value="女">Female</option>' in page
    shown = re.sub(r"<[^>]+>", " ", page)  # the text a person reads, not attribute values
    assert "person.name" not in shown and "certificate:" not in shown  # consents by label
    assert "Applicant&#x27;s name" in shown
    with translation.override("zh-hans"):
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
        chinese = client.get("/bundles/b/newborn/").content.decode()
    assert "出生医学证明" in chinese and "《中华人民共和国母婴保健法》第二十三条" in chinese


def test_catalogue_managers_see_the_assumed_note(client, db):
    from zhili.accounts.models import User

    admin = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        "catalogue-admin", password=None)
    client.force_login(admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert 'id="assumed"' in client.get("/bundles/b/newborn/").content.decode()


def test_the_officer_opens_the_uploaded_id_card_audited(login, applicant, filled, officers,
                                                        other_area_officer):
    from zhili.audit.models import AuditEntry

    application = services.application_submit(actor=applicant, **filled(applicant, "newborn"))
    task = Task.objects.get(application=application, matter__code="birth-medical-certificate")
    officer = officers["health"]
    page = login(officer).get(f"/bundles/tasks/{task.pk}/").content.decode()
    link = re.search(r'href="(/bundles/tasks/\d+/attachments/\d+/)"', page)
    assert link, page
    assert "sha256" not in page and "application/pdf" not in page
    assert re.search(r'data-field="child-sex">(Male|Female)<', page)  # stored 男/女, read in English
    assert 'data-confirm="Approve this matter and issue its certificate?' in page
    before = AuditEntry.objects.filter(action="bundles.attachment_read").count()
    opened = login(officer).get(link.group(1))
    assert opened.status_code == 200 and b"".join(opened.streaming_content).startswith(b"%PDF")
    assert opened["Content-Type"] == "application/pdf"
    assert AuditEntry.objects.filter(action="bundles.attachment_read").count() == before + 1
    assert login(other_area_officer).get(link.group(1)).status_code == 404
    assert login(applicant).get(link.group(1)).status_code == 404


def test_the_inbox_offers_statuses_in_words(login, officers):
    page = login(officers["health"]).get("/bundles/inbox/").content.decode()
    assert '<option value="ready">With the department</option>' in page
    assert ">blocked<" not in page and ">supplement<" not in page
