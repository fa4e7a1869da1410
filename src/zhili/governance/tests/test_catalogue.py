"""The seeded taxonomy, its idempotent seeding, attribute checks, and the admin."""

from __future__ import annotations

import pytest

from zhili.core.errors import ValidationFailed
from zhili.governance.catalogue import CATALOGUE, attributes_clean, category_seed
from zhili.governance.models import Board, Category


def test_at_least_forty_categories_on_four_boards(categories):
    assert len(CATALOGUE) >= 40 and len({s.code for s in CATALOGUE}) == len(CATALOGUE)
    assert {s.board for s in CATALOGUE} == set(Board.values)
    for code in ("road-damage", "power-line-sagging", "water-leak", "gas-smell",
                 "illegal-construction", "garbage", "noise", "unsafe-building",
                 "blocked-fire-lane", "elderly-in-need", "wage-arrears", "dispute-neighbour"):
        assert Category.objects.filter(code=code, active=True).exists(), code
    power = Category.objects.get(code="power-line-sagging")
    assert power.lead_department.code == "power" and power.priority == 1
    assert power.accept_minutes < power.arrive_minutes < power.resolve_minutes
    assert Category.objects.filter(is_dispute=True).count() >= 8


def test_seeding_is_idempotent_and_keeps_admin_edits(categories):
    Category.objects.filter(code="garbage").update(accept_minutes=7)
    assert category_seed() == 0
    assert Category.objects.get(code="garbage").accept_minutes == 7
    Category.objects.filter(code="noise").delete()
    assert category_seed() == 1


@pytest.mark.parametrize("answers, error", [
    ({"size": "small"}, None),
    ({}, "attributes.size"),
    ({"size": "huge"}, "attributes.size"),
    ({"size": ["small"]}, None),
    ({"size": "small", "unknown": "dropped"}, None),
])
def test_attribute_answers(answers, error):
    definitions = next(s for s in CATALOGUE if s.code == "road-damage").attributes
    if error:
        with pytest.raises(ValidationFailed) as caught:
            attributes_clean(definitions, answers)
        assert caught.value.errors[0].field == error
    else:
        assert attributes_clean(definitions, answers) == {"size": "small"}


def test_number_and_multivalue_attributes():
    definitions = [{"code": "bags", "datatype": "number"},
                   {"code": "kinds", "datatype": "multivaluelist",
                    "values": [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}]}]
    assert attributes_clean(definitions, {"bags": "3", "kinds": ["a", "b"]}) == \
        {"bags": 3.0, "kinds": ["a", "b"]}
    for bad in ({"bags": "many"}, {"bags": "inf"}, {"kinds": ["c"]}):
        with pytest.raises(ValidationFailed):
            attributes_clean(definitions, bad)


def test_admin_pages_load(client, categories, city_admin, report):
    city_admin.is_staff = city_admin.is_superuser = True
    city_admin.save()
    client.force_login(city_admin)
    case = report()
    for url in ("/admin/governance/category/", "/admin/governance/category/add/",
                f"/admin/governance/category/{Category.objects.get(code='noise').pk}/change/",
                "/admin/governance/case/", f"/admin/governance/case/{case.pk}/change/",
                "/admin/governance/dutyshift/", "/admin/governance/dispute/",
                "/admin/notifications/message/", "/admin/notifications/delivery/"):
        assert client.get(url).status_code == 200, url
