"""The admin edits the risk list and rules through the services (checked and audited)."""

import pytest

from zhili.audit.models import AuditEntry
from zhili.warning.models import RiskPoint, Rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, city_admin):
    city_admin.is_staff = True
    city_admin.save(update_fields=["is_staff"])
    client.force_login(city_admin)
    return client


def test_a_risk_point_added_in_the_admin_is_located_and_audited(admin_client, catalogue, grid):
    from zhili.warning.models import RiskCategory

    category = RiskCategory.objects.get(code="landslide")
    response = admin_client.post("/admin/warning/riskpoint/add/", {
        "code": "ADM-1", "name": "后山", "category": category.pk, "risk_level": 2,
        "description": "", "lon": grid.centre_lon, "lat": grid.centre_lat})
    assert response.status_code == 302, response.content[:500]
    point = RiskPoint.objects.get(code="ADM-1")
    assert point.grid_id == grid.id
    assert AuditEntry.objects.filter(action="risk_point.create", object_id=str(point.pk)).exists()


def test_a_point_outside_the_city_is_a_form_error(admin_client, catalogue):
    from zhili.warning.models import RiskCategory

    response = admin_client.post("/admin/warning/riskpoint/add/", {
        "code": "ADM-2", "name": "海上", "category": RiskCategory.objects.first().pk,
        "risk_level": 2, "lon": 0, "lat": 0})
    assert response.status_code == 200
    assert not RiskPoint.objects.filter(code="ADM-2").exists()


def test_a_rule_with_its_clear_line_past_its_raise_line_is_refused(admin_client, catalogue):
    form = {"name": "bad", "sensor_type": "rainfall_1h", "direction": "above",
            "raise_at": "[10, 20, 30, 40]", "clear_at": "[15, 20, 30, 40]", "duration_s": 0,
            "active": "on"}
    response = admin_client.post("/admin/warning/rule/add/", form)
    assert response.status_code == 200 and not Rule.objects.filter(name="bad").exists()
    form.update(name="good", clear_at="[8, 18, 28, 38]")
    response = admin_client.post("/admin/warning/rule/add/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert AuditEntry.objects.filter(action="rule.create").exists()
