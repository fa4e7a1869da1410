"""Searching the registries by a personal value reveals nothing the masked view hides.

The attack this guards against: a grid worker sees `500112********0098`, and
the old `q` matched the end of the number, so adding one digit at a time to
the tail (and watching for a hit) rebuilt the whole number, unaudited. Now a
number is matched whole or not at all, every look-up states a purpose and is
audited, and each user has a budget of look-ups.
"""

import json

import pytest
from django.urls import reverse

from zhili.audit.models import AuditEntry

PERSONS = "/registry/persons"
LOOKUP = "/registry/persons/lookup"
ORGANISATIONS = "/registry/organisations"
PURPOSE = "resident at the counter asks about their record"



@pytest.fixture(autouse=True)
def english(settings):
    """These tests read the messages' English wording (the default language is zh-Hans)."""
    settings.LANGUAGE_CODE = "en"

def lookups(user):
    return AuditEntry.objects.filter(actor=user, action__endswith=".lookup")


def test_growing_the_hidden_digits_one_at_a_time_learns_nothing(api, bearer, grid_worker,
                                                               person):
    headers = bearer(grid_worker)
    number = person.id_number
    answers = set()
    # The attacker knows the masked tail and guesses the hidden digits from the right.
    for known in range(4, 17):
        for guess in {number[-known - 1], "0" if number[-known - 1] != "0" else "1"}:
            tail = guess + number[-known:]
            response = api.post(LOOKUP, {"q": tail, "purpose": PURPOSE}, headers=headers)
            answers.add((response.status_code, json.dumps(response.json()["errors"])))
    # A right digit and a wrong one get the very same answer: a refusal of the part.
    assert answers == {(422, json.dumps([{"field": "q", "message":
                        "a whole identity number (18 characters, valid check digit); "
                        "parts of a number are not searched"}]))}
    assert not lookups(grid_worker).exists()  # refused before anything is read
    # The masked value itself, or a prefix, is no better.
    masked = number[:6] + "*" * 8 + number[-4:]
    assert api.post(LOOKUP, {"q": masked, "purpose": PURPOSE}, headers=headers).json()["count"] == 0
    assert api.post(LOOKUP, {"q": number[:10], "purpose": PURPOSE},
                    headers=headers).status_code == 422


def test_a_whole_number_is_found_for_a_purpose_and_audited(api, bearer, grid_worker, person):
    response = api.post(LOOKUP, {"q": person.id_number.lower(), "purpose": PURPOSE},
                        headers=bearer(grid_worker))
    body = response.json()
    assert body["count"] == 1 and body["items"][0]["id"] == person.pk
    assert body["items"][0]["id_number"] != person.id_number  # still masked
    entry = lookups(grid_worker).get()
    assert entry.action == "person.lookup" and entry.purpose == PURPOSE
    assert entry.object_id == str(person.pk) and entry.area_path == person.area_path
    assert entry.detail == {"by": "id_number", "matches": [person.pk], "count": 1}
    # The searched value is not copied into the log.
    assert person.id_number not in json.dumps(entry.detail) + entry.object_id


def test_a_look_up_without_a_purpose_is_refused_and_not_counted(api, bearer, grid_worker,
                                                                person):
    response = api.post(LOOKUP, {"q": person.id_number}, headers=bearer(grid_worker))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "purpose"
    assert not lookups(grid_worker).exists()


def test_a_name_is_matched_whole_never_by_its_first_characters(api, bearer, grid_worker,
                                                              person):
    headers = bearer(grid_worker)
    counts = {q: api.post(LOOKUP, {"q": q, "purpose": PURPOSE}, headers=headers).json()["count"]
              for q in ("测", "测试", "测试·", "测试·张", "测试·张三", "测试·李", "测试·张三丰")}
    # A right first character and a wrong one answer alike; only the whole name matches.
    assert counts == {"测": 0, "测试": 0, "测试·": 0, "测试·张": 0, "测试·张三": 0,
                      "测试·李": 0, "测试·张三丰": counts["测试·张三丰"]}
    assert counts["测试·张三丰"] >= 1
    assert lookups(grid_worker).filter(detail__by="name").count() == len(counts)


def test_a_look_up_stays_inside_the_scope(api, bearer, other_grid_worker, person):
    body = api.post(LOOKUP, {"q": person.id_number, "purpose": PURPOSE},
                    headers=bearer(other_grid_worker)).json()
    assert body["count"] == 0
    assert lookups(other_grid_worker).get().detail["matches"] == []


def test_look_ups_are_limited_per_user(api, bearer, grid_worker, other_grid_worker, person,
                                       settings):
    settings.ZHILI_LOOKUP_LIMIT = 3
    headers = bearer(grid_worker)
    for _ in range(3):
        assert api.post(LOOKUP, {"q": person.id_number, "purpose": PURPOSE},
                        headers=headers).status_code == 200
    response = api.post(LOOKUP, {"q": person.id_number, "purpose": PURPOSE}, headers=headers)
    assert response.status_code == 429 and response.json()["code"] == "throttled"
    assert lookups(grid_worker).count() == 3  # the refused one wrote nothing
    # Listing without a look-up is not limited, and the budget is per user.
    assert api.get(PERSONS, headers=headers).status_code == 200
    assert api.post(LOOKUP, {"q": person.id_number, "purpose": PURPOSE},
                    headers=bearer(other_grid_worker)).status_code == 200


def test_the_budget_counts_what_every_process_wrote(api, bearer, grid_worker, person, settings):
    """The count comes from the database (the audit rows), not from a process's memory."""
    from zhili.registry.services import person_lookup

    settings.ZHILI_LOOKUP_LIMIT = 2
    person_lookup(actor=grid_worker, q=person.id_number, purpose=PURPOSE)  # "another process"
    person_lookup(actor=grid_worker, q=person.id_number, purpose=PURPOSE)
    response = api.post(LOOKUP, {"q": person.id_number, "purpose": PURPOSE},
                        headers=bearer(grid_worker))
    assert response.status_code == 429


def test_credit_codes_are_matched_whole_only(api, bearer, grid_worker, organisation):
    headers = bearer(grid_worker)
    code = organisation.credit_code
    for known in (2, 5, 9, 12, 17):
        assert api.get(ORGANISATIONS, headers=headers, q=code[-known:]).json()["count"] == 0
    # Names are public: a part of the name still finds it, unaudited.
    assert api.get(ORGANISATIONS, headers=headers, q="山城火锅").json()["count"] >= 1
    assert not lookups(grid_worker).exists()
    response = api.get(ORGANISATIONS, headers=headers, q=code)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "purpose"
    body = api.get(ORGANISATIONS, headers=headers, q=code, purpose=PURPOSE).json()
    assert [o["id"] for o in body["items"]] == [organisation.pk]
    entry = lookups(grid_worker).get()
    assert entry.action == "organisation.lookup" and entry.detail["by"] == "credit_code"


def test_the_page_asks_for_a_purpose_and_shows_the_limit(client, grid_worker, person, settings):
    settings.ZHILI_LOOKUP_LIMIT = 1
    client.force_login(grid_worker)
    url = reverse("registry:person_list")
    response = client.post(url, {"q": person.id_number, "purpose": PURPOSE})
    assert response.context["page"]["count"] == 1
    response = client.post(url, {"q": person.id_number, "purpose": PURPOSE})
    assert response.status_code == 200 and response.context["page"] is None
    assert "look-ups" in " ".join(response.context["form"].non_field_errors())


@pytest.mark.parametrize("q", ["500112", "5001121980", "50011219800101009"])
def test_parts_of_a_number_on_the_page_are_refused(client, grid_worker, person, q):
    client.force_login(grid_worker)
    response = client.post(reverse("registry:person_list"), {"q": q, "purpose": PURPOSE})
    assert response.context["page"] is None and response.context["form"].errors["q"]


def test_a_look_up_never_travels_in_a_url(api, bearer, client, grid_worker, person):
    """Identity numbers in query strings end up in access logs and browser histories."""
    response = api.get(PERSONS, headers=bearer(grid_worker), q=person.id_number)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "q"
    client.force_login(grid_worker)
    response = client.get(reverse("registry:person_list"), {"q": person.id_number})
    assert response.context["page"] is None and response.context["form"].errors["q"]
    page = client.get(reverse("registry:person_list")).content.decode()
    assert 'method="post"' in page
    assert not lookups(grid_worker).exists()
