"""Pages: login required, scoped, masked; the reveal flow asks for a purpose and audits it."""

import pytest
from django.urls import reverse

from zhili.audit.models import AuditEntry


@pytest.mark.parametrize("name, args", [("registry:person_list", []),
                                        ("registry:organisation_list", []),
                                        ("registry:person_detail", [1])])
def test_login_required(client, db, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_person_list_is_masked_and_scoped(client, grid_worker, person, other_person):
    client.force_login(grid_worker)
    response = client.get(reverse("registry:person_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert person.id_number not in html and person.phone not in html
    assert person.id_number[:6] + "********" + person.id_number[-4:] in html
    assert reverse("registry:person_detail", args=[person.pk]) in html
    assert reverse("registry:person_detail", args=[other_person.pk]) not in html
    # Listing masked rows is not a read of personal data.
    assert not AuditEntry.objects.filter(action="person.reveal").exists()


def test_person_list_filters_and_pages(client, grid_worker, person):
    client.force_login(grid_worker)
    response = client.post(reverse("registry:person_list"),
                           {"q": person.id_number, "purpose": "resident at the counter"})
    assert response.context["page"]["count"] == 1
    assert AuditEntry.objects.filter(action="person.lookup", actor=grid_worker).count() == 1
    # A part of the number is refused on the form, not searched.
    response = client.post(reverse("registry:person_list"),
                           {"q": person.id_number[-6:], "purpose": "resident at the counter"})
    assert response.context["page"] is None and response.context["form"].errors["q"]
    response = client.post(reverse("registry:person_list"), {"q": person.id_number})
    assert response.context["page"] is None and response.context["form"].errors["purpose"]
    response = client.get(reverse("registry:person_list"), {"area": "abc"})
    assert response.status_code == 200 and response.context["form"].errors["area"]
    response = client.get(reverse("registry:person_list"), {"page": "x"})
    assert response.status_code == 200


def test_person_list_needs_the_view_right(client, resident):
    client.force_login(resident)
    assert client.get(reverse("registry:person_list")).status_code == 403


def test_detail_is_masked_and_other_areas_are_404(client, grid_worker, other_grid_worker, person,
                                                  household_register):
    client.force_login(grid_worker)
    response = client.get(reverse("registry:person_detail", args=[person.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert person.id_number not in html and household_register.number not in html
    assert 'id="reveal-form"' not in html  # grid workers may not reveal
    client.force_login(other_grid_worker)
    assert client.get(reverse("registry:person_detail", args=[person.pk])).status_code == 404


def test_reveal_flow(client, street_operator, person):
    client.force_login(street_operator)
    detail = client.get(reverse("registry:person_detail", args=[person.pk])).content.decode()
    assert 'id="reveal-form"' in detail and "csrfmiddlewaretoken" in detail
    url = reverse("registry:person_reveal", args=[person.pk])
    response = client.post(url, {"purpose": "核实低保申请人身份"})
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert person.id_number in html and person.phone in html
    entry = AuditEntry.objects.get(action="person.reveal", object_id=str(person.pk))
    assert entry.purpose == "核实低保申请人身份" and entry.channel == "web"


def test_reveal_without_purpose_shows_the_error_and_audits_nothing(client, street_operator,
                                                                   person):
    client.force_login(street_operator)
    response = client.post(reverse("registry:person_reveal", args=[person.pk]), {"purpose": " "})
    assert response.status_code == 422
    assert person.id_number not in response.content.decode()
    assert not AuditEntry.objects.filter(action="person.reveal").exists()


def test_reveal_needs_the_right_and_a_post(client, grid_worker, other_street_operator, person):
    url = reverse("registry:person_reveal", args=[person.pk])
    client.force_login(grid_worker)
    assert client.post(url, {"purpose": "核实身份信息"}).status_code == 403
    assert client.get(url).status_code == 405
    client.force_login(other_street_operator)
    assert client.post(url, {"purpose": "核实身份信息"}).status_code == 404
    assert not AuditEntry.objects.filter(action="person.reveal").exists()


def test_reveal_requires_csrf(street_operator, person):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(street_operator)
    response = client.post(reverse("registry:person_reveal", args=[person.pk]),
                           {"purpose": "核实身份信息"})
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="person.reveal").exists()


def test_organisation_list(client, grid_worker, organisation, other_organisation, resident):
    client.force_login(grid_worker)
    html = client.get(reverse("registry:organisation_list")).content.decode()
    assert organisation.name in html and other_organisation.name not in html
    assert organisation.credit_code not in html
    client.force_login(resident)
    assert client.get(reverse("registry:organisation_list")).status_code == 403


def test_person_list_query_count(client, district_operator, django_assert_max_num_queries):
    client.force_login(district_operator)
    client.get(reverse("registry:person_list"))
    # session, user, role assignments, COUNT, page SELECT, plus the menu's needs
    with django_assert_max_num_queries(8):
        response = client.get(reverse("registry:person_list"))
    assert len(response.context["rows"]) == 25
