"""The admin attaches a drainage model through the service; the engine's ERROR lines
show beside the file."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhili.audit.models import AuditEntry
from zhili.flood.models import DrainageModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, city_admin, settings):
    settings.LANGUAGE_CODE = "en"
    city_admin.is_staff = True
    city_admin.save(update_fields=["is_staff"])
    client.force_login(city_admin)
    return client


def test_an_upload_is_checked_located_and_audited(admin_client, small_inp, street):
    response = admin_client.post("/admin/flood/drainagemodel/add/", {
        "area": street.pk, "name": "后台上传", "risk_radius_m": 250,
        "upload": SimpleUploadedFile("net.inp", small_inp.encode())})
    assert response.status_code == 302, response.content[:800]
    model = DrainageModel.objects.get(name="后台上传")
    assert model.junctions == 6 and model.risk_radius_m == 250 and model.source_name == "net.inp"
    assert model.nodes.filter(grid__isnull=False).exists()
    assert AuditEntry.objects.filter(action="flood.model_add", object_id=str(model.pk)).exists()


def test_a_corrupt_upload_shows_the_error_line_and_adds_nothing(admin_client, small_inp, street):
    bad = small_inp.replace("\nJ2 ", "\nJ2 abc ", 1)
    response = admin_client.post("/admin/flood/drainagemodel/add/", {
        "area": street.pk, "name": "坏文件", "risk_radius_m": 300,
        "upload": SimpleUploadedFile("bad.inp", bad.encode())})
    assert response.status_code == 200
    page = response.content.decode()
    assert "ERROR 211" in page and "at line" in page
    assert not DrainageModel.objects.filter(name="坏文件").exists()


def test_thresholds_are_checked_on_change(admin_client, flood_model):
    url = f"/admin/flood/drainagemodel/{flood_model.pk}/change/"
    response = admin_client.post(url, {"name": flood_model.name, "risk_radius_m": 300,
                                       "thresholds": '{"volume_m3": [5, 1, 2]}',
                                       "risk_categories": "[]", "active": "on"})
    assert response.status_code == 200 and "rising" in response.content.decode()
    response = admin_client.post(url, {"name": "改名", "risk_radius_m": 300,
                                       "thresholds": '{"volume_m3": [1, 10, 100, 1000]}',
                                       "risk_categories": "[]", "active": "on"})
    assert response.status_code == 302, response.content[:500]
    flood_model.refresh_from_db()
    assert flood_model.name == "改名" and flood_model.thresholds["volume_m3"][3] == 1000
    assert AuditEntry.objects.filter(action="flood.model_update",
                                     object_id=str(flood_model.pk)).exists()


def test_a_street_operator_has_no_flood_admin(client, street_operator):
    street_operator.is_staff = True
    street_operator.save(update_fields=["is_staff"])
    client.force_login(street_operator)
    assert client.get("/admin/flood/drainagemodel/add/").status_code == 403
