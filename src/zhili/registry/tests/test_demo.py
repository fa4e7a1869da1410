"""The demo registry: valid, fictitious, deterministic, idempotent."""

import random

from django.utils import timezone

from zhili.geo.models import AreaNode, Level
from zhili.registry import demo
from zhili.registry.identifiers import credit_code_is_valid, id_number_is_valid
from zhili.registry.models import Certificate, Consent, Organisation, Person


def test_every_stored_identifier_is_valid(db):
    today = timezone.localdate()
    assert all(id_number_is_valid(n, today=today)
               for n in Person.objects.values_list("id_number", flat=True))
    assert all(credit_code_is_valid(c)
               for c in Organisation.objects.values_list("credit_code", flat=True))


def test_seeded_data_is_fictitious(db):
    persons = list(Person.objects.filter(name__startswith="示例·"))
    assert len(persons) >= demo.PERSONS
    assert all(p.phone == "" or p.phone.startswith("1009") for p in persons)
    assert Organisation.objects.filter(name__startswith="示例·").count() >= demo.ORGANISATIONS
    assert Certificate.objects.filter(cert_type="business-licence").count() >= demo.ORGANISATIONS
    assert Certificate.objects.filter(cert_type="household-register").exists()
    assert Consent.objects.exists()
    for grid in demo.FIRST_GRIDS:
        assert Person.objects.filter(grid__code=grid, name__startswith="示例·").count() >= 3


def test_seed_is_idempotent(db):
    before = Person.objects.count()
    demo.seed(seed=1, log=lambda *_: None)
    assert Person.objects.count() == before


def test_same_seed_same_data(db):
    grids = list(AreaNode.objects.filter(level=Level.GRID).order_by("code")
                 .values_list("id", "code", "path"))
    streets = dict(AreaNode.objects.filter(level=Level.STREET).values_list("code", "name"))
    today = timezone.localdate()

    def run(seed):
        persons, heads, organisations = demo.plan(random.Random(seed), grids, streets, today)
        return ([(p.id_number, p.name, p.grid_id) for p in persons],
                [o.credit_code for o in organisations])

    assert run(1) == run(1)
    assert run(1) != run(2)
    stored = list(Person.objects.filter(name__startswith="示例·").order_by("id")
                  .values_list("id_number", "name", "grid_id")[:50])
    assert stored == run(1)[0][:50]
