"""Registry fixtures: persons and organisations made through the real services,
and users whose roles the demo does not have (a police officer, a street-level
registrar) so that write permissions can be tested per area."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from zhili.registry.identifiers import credit_code_make, id_number_make

# Region 500112 (渝北区) and birth dates from 1980: never collide with the demo's
# 500103 numbers.
_serial = itertools.count(1)


def new_id_number() -> str:
    n = next(_serial)
    return id_number_make("500112", date(1980, 1, 1) + timedelta(days=n // 1000), n % 1000)


def new_credit_code() -> str:
    n = next(_serial)
    return credit_code_make("91", "500112", f"MA{n:06d}")


@pytest.fixture
def make_person(db):
    from zhili.registry.services import person_create

    def make(grid, **fields):
        values = {"id_number": new_id_number(), "name": "测试·张三丰", "phone": "13812345678",
                  "address": "重庆市渝中区解放碑街道民族路188号3栋2单元501",
                  "household_no": "T-0001", **fields}
        return person_create(actor=None, grid=grid, **values)

    return make


@pytest.fixture
def person(make_person, grid):
    return make_person(grid)


@pytest.fixture
def other_person(make_person, other_grid):
    return make_person(other_grid, name="测试·李四")


@pytest.fixture
def make_organisation(db):
    from zhili.registry.services import organisation_create

    def make(area, **fields):
        values = {"credit_code": new_credit_code(), "name": "测试·山城火锅有限公司",
                  "legal_representative": "测试·王五", "address": "重庆市渝中区民族路1号",
                  **fields}
        return organisation_create(actor=None, area=area, **values)

    return make


@pytest.fixture
def organisation(make_organisation, grid):
    return make_organisation(grid)


@pytest.fixture
def other_organisation(make_organisation, other_grid):
    return make_organisation(other_grid, name="测试·两江物流有限公司")


def _user_with(username, role, area, department_code=None):
    from zhili.accounts.models import Department
    from zhili.accounts.services import role_assign, user_create

    user = user_create(username=username, password=None)
    department = Department.objects.get(code=department_code) if department_code else None
    role_assign(user=user, role=role, area=area, department=department)
    return user


@pytest.fixture
def police_officer(db, street):
    """Public security officer for street 1: issues household registers there."""
    return _user_with("police1", "department_officer", street, "public-security")


@pytest.fixture
def street_registrar(db, street):
    """Holds the administrator role on street 1 only: may change persons there, not elsewhere."""
    return _user_with("registrar1", "city_admin", street)


@pytest.fixture
def household_register(police_officer, person):
    from zhili.registry.services import certificate_issue

    return certificate_issue(actor=police_officer, cert_type="household-register", holder=person,
                             content={"household_no": "T-0001", "members": 3})


@pytest.fixture
def other_household_register(other_person):
    from zhili.registry.services import certificate_issue

    return certificate_issue(actor=None, cert_type="household-register", holder=other_person)


@pytest.fixture
def consent(person):
    from zhili.registry.services import consent_grant

    return consent_grant(actor=None, person=person, purpose="grid-service",
                         purpose_text="网格员上门服务时联系本人", data_item="person.phone")
