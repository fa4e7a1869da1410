"""The admin is read-only and masked, for staff who hold the registry's change right."""

import pytest

from zhili.registry.models import Person


@pytest.fixture
def staff_admin(city_admin):
    city_admin.is_staff = True
    city_admin.save(update_fields=["is_staff"])
    return city_admin


def test_city_admin_sees_masked_rows(client, staff_admin, person):
    client.force_login(staff_admin)
    listing = client.get("/admin/registry/person/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert person.id_number not in html
    assert person.id_number[:6] + "********" + person.id_number[-4:] in html
    detail = client.get(f"/admin/registry/person/{person.pk}/change/")
    assert detail.status_code == 200
    assert person.id_number not in detail.content.decode()
    assert person.phone not in detail.content.decode()


def test_admin_cannot_write(client, staff_admin, person):
    client.force_login(staff_admin)
    assert client.get("/admin/registry/person/add/").status_code == 403
    client.post(f"/admin/registry/person/{person.pk}/change/", {"name": "改名"})
    person.refresh_from_db()
    assert person.name != "改名"
    assert client.post(f"/admin/registry/person/{person.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert Person.objects.filter(pk=person.pk).exists()


@pytest.mark.parametrize("path", ["person", "organisation", "certificate", "consent"])
def test_other_staff_are_kept_out(client, grid_worker, path):
    grid_worker.is_staff = True
    grid_worker.save(update_fields=["is_staff"])
    client.force_login(grid_worker)
    assert client.get(f"/admin/registry/{path}/").status_code == 403


@pytest.mark.parametrize("path", ["organisation", "certificate", "consent"])
def test_every_registry_admin_page_renders(client, staff_admin, household_register, consent,
                                           organisation, path):
    client.force_login(staff_admin)
    assert client.get(f"/admin/registry/{path}/").status_code == 200
