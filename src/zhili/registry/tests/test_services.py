"""Use cases: validation names the field and writes nothing; audit rows commit with the write."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from zhili.audit.models import AuditEntry
from zhili.core.errors import Conflict, PermissionDenied, ValidationFailed
from zhili.registry import services
from zhili.registry.models import Certificate, Consent, Person
from zhili.registry.selectors import consent_is_active
from zhili.registry.tests.conftest import new_credit_code, new_id_number


def audit_rows(action, obj=None):
    rows = AuditEntry.objects.filter(action=action)
    if obj is not None:
        rows = rows.filter(object_id=str(obj.pk))
    return rows


def field_names(excinfo):
    return [e.field for e in excinfo.value.errors]


# --- persons ---------------------------------------------------------------------------------

def test_person_create_writes_person_and_audit_row(city_admin, grid):
    number = new_id_number()
    person = services.person_create(actor=city_admin, id_number=number.lower(), name="测试·张三",
                                    grid=grid.code, phone="13812345678")
    assert person.id_number == number.upper()
    assert person.area_path == grid.path
    row = audit_rows("person.create", person).get()
    assert row.actor == city_admin and row.area_path == grid.path
    assert number not in str(row.detail)  # no personal data in the audit detail


def test_wrong_check_digit_names_the_field_and_writes_nothing(city_admin, grid):
    number = new_id_number()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    before = Person.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as excinfo:
        services.person_create(actor=city_admin, id_number=wrong, name="测试", grid=grid)
    assert field_names(excinfo) == ["id_number"]
    assert excinfo.value.status == 422
    assert (Person.objects.count(), AuditEntry.objects.count()) == before


def test_every_bad_field_is_named(city_admin, district):
    with pytest.raises(ValidationFailed) as excinfo:
        services.person_create(actor=city_admin, id_number="x", name=" ", grid=district,
                               phone="call me", household_no="a b\x00")
    assert set(field_names(excinfo)) == {"id_number", "name", "phone", "household_no", "grid"}


def test_duplicate_person_is_a_conflict(city_admin, person, grid):
    with pytest.raises(Conflict):
        services.person_create(actor=city_admin, id_number=person.id_number, name="测试",
                               grid=grid)


def test_person_create_outside_the_actors_area_is_denied(street_registrar, grid, other_grid):
    services.person_create(actor=street_registrar, id_number=new_id_number(), name="测试",
                           grid=grid)
    with pytest.raises(PermissionDenied):
        services.person_create(actor=street_registrar, id_number=new_id_number(), name="测试",
                               grid=other_grid)


def test_grid_workers_cannot_register_persons(grid_worker, grid):
    with pytest.raises(PermissionDenied):
        services.person_create(actor=grid_worker, id_number=new_id_number(), name="测试",
                               grid=grid)


def test_audit_failure_rolls_the_person_back(city_admin, grid, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(services, "audit_record", broken)
    number = new_id_number()
    with pytest.raises(RuntimeError):
        services.person_create(actor=city_admin, id_number=number, name="测试", grid=grid)
    assert not Person.objects.filter(id_number=number).exists()


def test_person_update_inside_the_area(street_registrar, person, community):
    new_grid = community.children.exclude(pk=person.grid_id).first()
    updated = services.person_update(actor=street_registrar, person=person, phone="13900000000",
                                     grid=new_grid.code)
    assert updated.grid == new_grid and updated.area_path == new_grid.path
    assert audit_rows("person.update", person).get().detail["changed"] == ["phone", "grid"]


def test_person_update_cannot_move_a_person_out_of_the_area(street_registrar, person,
                                                            household_register, other_grid):
    before = AuditEntry.objects.count()
    with pytest.raises(PermissionDenied):
        services.person_update(actor=street_registrar, person=person, name="改名",
                               grid=other_grid)
    person.refresh_from_db()
    household_register.refresh_from_db()
    assert person.grid_id != other_grid.pk and person.name != "改名"
    assert household_register.area_path == person.area_path
    assert AuditEntry.objects.count() == before


def test_what_a_person_holds_moves_with_them(city_admin, person, household_register, consent,
                                             other_grid):
    services.person_update(actor=city_admin, person=person, grid=other_grid)
    household_register.refresh_from_db()
    consent.refresh_from_db()
    assert household_register.area_path == consent.area_path == other_grid.path


def test_person_update_refuses_unknown_fields(city_admin, person):
    with pytest.raises(ValidationFailed) as excinfo:
        services.person_update(actor=city_admin, person=person, id_number="x")
    assert field_names(excinfo) == ["id_number"]


# --- reveal ----------------------------------------------------------------------------------

def test_reveal_is_audited_with_its_purpose(street_operator, person):
    revealed = services.person_reveal(actor=street_operator, person=person,
                                      purpose="核实低保申请人身份")
    assert revealed.id_number == person.id_number
    row = audit_rows("person.reveal", person).get()
    assert row.purpose == "核实低保申请人身份" and row.actor == street_operator


@pytest.mark.parametrize("purpose", ["", "   ", "abc", "x" * 201, "看看\x00"])
def test_reveal_needs_a_real_purpose(street_operator, person, purpose):
    with pytest.raises(ValidationFailed) as excinfo:
        services.person_reveal(actor=street_operator, person=person, purpose=purpose)
    assert field_names(excinfo) == ["purpose"]
    assert not audit_rows("person.reveal", person).exists()


@pytest.mark.parametrize("who", ["grid_worker", "other_street_operator", "resident"])
def test_reveal_needs_the_right_over_the_area(request, who, person):
    with pytest.raises(PermissionDenied):
        services.person_reveal(actor=request.getfixturevalue(who), person=person,
                               purpose="核实身份信息")
    assert not audit_rows("person.reveal", person).exists()


# --- organisations ---------------------------------------------------------------------------

def test_organisation_create_and_bad_code(city_admin, grid):
    code = new_credit_code()
    organisation = services.organisation_create(actor=city_admin, credit_code=code.lower(),
                                                name="测试·公司", area=grid.code)
    assert organisation.credit_code == code
    assert audit_rows("organisation.create", organisation).exists()
    with pytest.raises(ValidationFailed) as excinfo:
        services.organisation_create(actor=city_admin, credit_code=code[:17] + "I", name="x",
                                     area=grid)
    assert field_names(excinfo) == ["credit_code"]
    with pytest.raises(Conflict):
        services.organisation_create(actor=city_admin, credit_code=code, name="x", area=grid)


# --- certificates ----------------------------------------------------------------------------

def test_officer_issues_in_their_departments_name(police_officer, person):
    certificate = services.certificate_issue(actor=police_officer, cert_type="household-register",
                                             holder=person)
    assert certificate.department.code == "public-security"
    assert certificate.area_path == person.area_path
    assert certificate.number.startswith("HJ")
    assert audit_rows("certificate.issue", certificate).exists()


def test_officer_cannot_issue_another_departments_type(department_officer, person):
    with pytest.raises(PermissionDenied):
        services.certificate_issue(actor=department_officer, cert_type="household-register",
                                   holder=person)
    with pytest.raises(PermissionDenied):
        services.certificate_issue(actor=department_officer, cert_type="household-register",
                                   holder=person, department="public-security")


def test_officer_cannot_issue_outside_their_area(police_officer, other_person):
    with pytest.raises(PermissionDenied):
        services.certificate_issue(actor=police_officer, cert_type="household-register",
                                   holder=other_person)


def test_city_admin_names_the_department_or_gets_the_types_own(city_admin, person):
    certificate = services.certificate_issue(actor=city_admin, cert_type="household-register",
                                             holder=person)
    assert certificate.department.code == "public-security"
    with pytest.raises(ValidationFailed) as excinfo:
        services.certificate_issue(actor=city_admin, cert_type="household-register",
                                   holder=person, department="power")
    assert field_names(excinfo) == ["department"]


def test_certificate_validation(city_admin, person, organisation):
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationFailed) as excinfo:
        services.certificate_issue(actor=city_admin, cert_type="business-licence", holder=person,
                                   number="bad number!", issued_on=tomorrow,
                                   expires_on=date(2000, 1, 1), content=[1])
    assert set(field_names(excinfo)) == {"holder", "number", "issued_on", "expires_on",
                                         "content"}
    with pytest.raises(ValidationFailed) as excinfo:
        services.certificate_issue(actor=city_admin, cert_type="passport", holder=organisation)
    assert field_names(excinfo) == ["cert_type"]
    with pytest.raises(ValidationFailed):
        services.certificate_issue(actor=city_admin, cert_type="business-licence",
                                   holder=organisation, content={"x": "\x00"})


def test_duplicate_certificate_number_is_a_conflict(city_admin, household_register, person):
    with pytest.raises(Conflict):
        services.certificate_issue(actor=city_admin, cert_type="household-register",
                                   holder=person, number=household_register.number)


def test_database_refuses_a_certificate_with_two_holders(person, organisation, household_register):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.filter(pk=household_register.pk).update(organisation=organisation)


def test_revoke_by_the_issuing_department_only(police_officer, department_officer,
                                               household_register):
    with pytest.raises(PermissionDenied):
        services.certificate_revoke(actor=department_officer, certificate=household_register,
                                    reason="户口迁出")
    with pytest.raises(ValidationFailed):
        services.certificate_revoke(actor=police_officer, certificate=household_register,
                                    reason="")
    revoked = services.certificate_revoke(actor=police_officer, certificate=household_register,
                                          reason="户口迁出本市")
    assert revoked.status == "revoked" and revoked.revoked_reason == "户口迁出本市"
    with pytest.raises(Conflict):
        services.certificate_revoke(actor=police_officer, certificate=revoked, reason="再次撤销")


def test_certificate_reveal_is_audited(street_operator, grid_worker, household_register):
    with pytest.raises(PermissionDenied):
        services.certificate_reveal(actor=grid_worker, certificate=household_register,
                                    purpose="查看户口信息")
    services.certificate_reveal(actor=street_operator, certificate=household_register,
                                purpose="办理出生一件事")
    assert audit_rows("certificate.reveal", household_register).get().purpose == "办理出生一件事"


# --- consent ---------------------------------------------------------------------------------

def test_consent_grant_revoke_and_regrant(city_admin, person):
    consent = services.consent_grant(actor=city_admin, person=person, purpose="newborn-bundle",
                                     purpose_text="出生一件事", data_item="person.address")
    assert consent_is_active(person=person, purpose="newborn-bundle", data_item="person.address")
    with pytest.raises(Conflict):
        services.consent_grant(actor=city_admin, person=person, purpose="newborn-bundle",
                               purpose_text="出生一件事", data_item="person.address")
    services.consent_revoke(actor=city_admin, consent=consent)
    assert not consent_is_active(person=person, purpose="newborn-bundle",
                                 data_item="person.address")
    with pytest.raises(Conflict):
        services.consent_revoke(actor=city_admin, consent=consent)
    again = services.consent_grant(actor=city_admin, person=person, purpose="newborn-bundle",
                                   purpose_text="出生一件事", data_item="person.address")
    assert again.pk != consent.pk
    assert [r.action for r in AuditEntry.objects.filter(object_type="registry.consent",
                                                        object_id__in=[consent.pk, again.pk])
            .order_by("id")] == ["consent.grant", "consent.revoke", "consent.grant"]


def test_an_expired_consent_is_closed_by_a_new_grant(city_admin, person):
    consent = services.consent_grant(actor=city_admin, person=person, purpose="grid-visit",
                                     purpose_text="上门走访", data_item="person.phone",
                                     expires_at=timezone.now() + timedelta(days=1))
    Consent.objects.filter(pk=consent.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert not consent_is_active(person=person, purpose="grid-visit", data_item="person.phone")
    services.consent_grant(actor=city_admin, person=person, purpose="grid-visit",
                           purpose_text="上门走访", data_item="person.phone")
    consent.refresh_from_db()
    assert consent.revoked_at == consent.expires_at
    assert consent_is_active(person=person, purpose="grid-visit", data_item="person.phone")


def test_consent_validation(city_admin, person):
    with pytest.raises(ValidationFailed) as excinfo:
        services.consent_grant(actor=city_admin, person=person, purpose="Not A Slug",
                               purpose_text="", data_item="person.salary",
                               expires_at=timezone.now() - timedelta(days=1))
    assert set(field_names(excinfo)) == {"purpose", "purpose_text", "data_item", "expires_at"}


def test_consent_needs_the_change_right(grid_worker, person):
    with pytest.raises(PermissionDenied):
        services.consent_grant(actor=grid_worker, person=person, purpose="grid-visit",
                               purpose_text="上门走访", data_item="person.phone")
