"""API schemas. The `…Out` schemas mask personal data in their resolvers, so a
row can only leave unmasked through an explicit `…Full` schema, which only
the audited reveal endpoints use."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema

from zhili.core.schemas import ERRORS, WRITE_ERRORS, Id, ProblemOut  # noqa: F401  (re-exported)
from zhili.registry.masking import (
    mask_address,
    mask_certificate_number,
    mask_credit_code,
    mask_id_number,
    mask_name,
    mask_phone,
)
from zhili.registry.models import CERTIFICATE_TYPES, CertificateStatus

# Inputs are capped loosely here (so nobody posts megabytes); the services
# give the precise, per-field messages.
TEXT = 1000




class AreaName(Schema):
    code: str
    name: str


# --- persons ---------------------------------------------------------------------------------

class PersonOut(Schema):
    id: int
    id_number: str = Field(description="masked: region and last four, e.g. 500103********1234")
    name: str = Field(description="masked: the first character only")
    phone: str = Field(description="masked: 138****5678")
    address: str = Field(description="masked: the district/street part only")
    household_no: str
    grid: AreaName
    masked: bool = True
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_id_number(obj):
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_name(obj):
        return mask_name(obj.name)

    @staticmethod
    def resolve_phone(obj):
        return mask_phone(obj.phone)

    @staticmethod
    def resolve_address(obj):
        return mask_address(obj.address)

    @staticmethod
    def resolve_masked(obj):
        return True


class PersonFull(Schema):
    """Unmasked: returned only by the audited reveal."""

    id: int
    id_number: str
    name: str
    phone: str
    address: str
    household_no: str
    grid: AreaName
    masked: bool = False
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_masked(obj):
        return False


class PersonPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[PersonOut]


class PersonIn(Schema):
    id_number: str = Field(max_length=64, description="18 characters, GB 11643 check digit")
    name: str = Field(max_length=TEXT)
    grid: str = Field(max_length=32, description="the grid's 15-digit code")
    phone: str = Field("", max_length=TEXT)
    address: str = Field("", max_length=TEXT)
    household_no: str = Field("", max_length=TEXT)


class PersonPatch(Schema):
    name: str | None = Field(None, max_length=TEXT)
    grid: str | None = Field(None, max_length=32)
    phone: str | None = Field(None, max_length=TEXT)
    address: str | None = Field(None, max_length=TEXT)
    household_no: str | None = Field(None, max_length=TEXT)


class PersonFilterIn(Schema):
    area: str = Field("", max_length=32, description="area code: persons of that subtree")
    q: str = Field("", max_length=64,
                   description="not accepted here (422): look a person up with "
                               "`POST /persons/lookup`, so that no identity number or name "
                               "is written into a URL, and so into logs and histories")
    household_no: str = Field("", max_length=32)


class PersonLookupIn(Schema):
    q: str = Field(..., max_length=64,
                   description="a whole identity number or a whole name, matched exactly "
                               "(never a part)")
    purpose: str = Field("", max_length=TEXT,
                         description="why you look the person up (4-200 characters); audited")
    area: str = Field("", max_length=32, description="area code: only persons of that subtree")
    household_no: str = Field("", max_length=32)


class RevealIn(Schema):
    purpose: str = Field("", max_length=TEXT,
                         description="why you need the full record (4-200 characters); audited")


# --- organisations ---------------------------------------------------------------------------

class OrganisationOut(Schema):
    id: int
    credit_code: str = Field(description="masked: first 8 and last 2 characters")
    name: str
    legal_representative: str = Field(description="masked: the first character only")
    address: str
    area: AreaName
    created_at: datetime

    @staticmethod
    def resolve_credit_code(obj):
        return mask_credit_code(obj.credit_code)

    @staticmethod
    def resolve_legal_representative(obj):
        return mask_name(obj.legal_representative)


class OrganisationPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[OrganisationOut]


class OrganisationIn(Schema):
    credit_code: str = Field(max_length=64, description="18 characters, GB 32100 check character")
    name: str = Field(max_length=TEXT)
    area: str = Field(max_length=32, description="code of the area it is registered in")
    legal_representative: str = Field("", max_length=TEXT)
    address: str = Field("", max_length=TEXT)


class OrganisationFilterIn(Schema):
    area: str = Field("", max_length=32)
    q: str = Field("", max_length=64,
                   description="part of the name; or a whole credit code, matched exactly, "
                               "which needs `purpose`, is audited as `organisation.lookup` "
                               "and limited per user")
    purpose: str = Field("", max_length=TEXT,
                         description="why you look the code up; required with a whole code")


# --- certificates ----------------------------------------------------------------------------

class HolderRef(Schema):
    kind: str
    id: int
    name: str = Field(description="masked for persons")


class DepartmentName(Schema):
    code: str
    name: str


def _holder(obj) -> dict:
    if obj.person_id:
        return {"kind": "person", "id": obj.person_id, "name": mask_name(obj.person.name)}
    return {"kind": "organisation", "id": obj.organisation_id, "name": obj.organisation.name}


class CertificateOut(Schema):
    id: int
    cert_type: str
    cert_type_label: str
    number: str = Field(description="masked")
    holder: HolderRef
    department: DepartmentName
    issued_on: date
    expires_on: date | None
    status: str
    revoked_at: datetime | None
    content: dict = Field(description="in full for organisations; empty for persons (reveal it)")
    content_fields: list[str]
    masked: bool = True

    @staticmethod
    def resolve_cert_type_label(obj):
        spec = CERTIFICATE_TYPES.get(obj.cert_type)
        return str(spec.label) if spec else obj.cert_type

    @staticmethod
    def resolve_number(obj):
        return mask_certificate_number(obj.number)

    @staticmethod
    def resolve_holder(obj):
        return _holder(obj)

    @staticmethod
    def resolve_content(obj):
        # A business licence is public registration data; a person's certificate is not.
        return obj.content if obj.organisation_id else {}

    @staticmethod
    def resolve_content_fields(obj):
        return sorted(obj.content) if isinstance(obj.content, dict) else []

    @staticmethod
    def resolve_masked(obj):
        return True


class CertificateFull(CertificateOut):
    """Number and content in full: returned only by the audited reveal."""

    masked: bool = False

    @staticmethod
    def resolve_number(obj):
        return obj.number

    @staticmethod
    def resolve_content(obj):
        return obj.content

    @staticmethod
    def resolve_masked(obj):
        return False


class CertificatePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CertificateOut]


class CertificateIn(Schema):
    cert_type: str = Field(max_length=64, description="one of: " + ", ".join(CERTIFICATE_TYPES))
    holder_person: int | None = Field(None, description="id of the person holding it")
    holder_organisation: int | None = Field(None, description="id of the organisation holding it")
    department: str | None = Field(None, max_length=64,
                                   description="issuing department code (officers: their own)")
    number: str = Field("", max_length=TEXT, description="generated when left empty")
    issued_on: date | None = None
    expires_on: date | None = None
    content: dict = Field(default_factory=dict)


# Declared, so the OpenAPI document lists the values a filter takes.
CertificateStatusName = Literal[tuple(CertificateStatus.values)]


class CertificateFilterIn(Schema):
    person: Id | None = Field(None, description="certificates held by this person")
    organisation: Id | None = Field(None, description="certificates held by this organisation")
    cert_type: str = Field("", max_length=64)
    status: CertificateStatusName | None = None


class RevokeIn(Schema):
    reason: str = Field("", max_length=TEXT)


# --- consent ---------------------------------------------------------------------------------

class ConsentOut(Schema):
    id: int
    person: int
    purpose: str
    purpose_text: str
    data_item: str
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool

    @staticmethod
    def resolve_person(obj):
        return obj.person_id

    @staticmethod
    def resolve_active(obj):
        return obj.is_active()


class ConsentPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ConsentOut]


class ConsentIn(Schema):
    purpose: str = Field(max_length=TEXT, description="a slug, e.g. newborn-bundle")
    purpose_text: str = Field(max_length=TEXT, description="the purpose in words")
    data_item: str = Field(max_length=TEXT, description="e.g. person.phone or "
                                                        "certificate:household-register")
    expires_at: datetime | None = None
