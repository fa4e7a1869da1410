"""The base registries: persons, organisations, e-certificates (电子证照), consent.

Every row carries `area_path` (copied from its grid, area or holder) so that
reads are scoped by one prefix match. Rows are written only by
`registry.services`; `area_path` is kept in step there when a holder moves.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhili.core.scoping import AreaScopedModel


class Person(AreaScopedModel):
    """A resident of the population registry (人口库)."""

    # Shown masked, never searched or filtered on in part (core.personal).
    personal_fields = ("id_number", "name", "phone", "address")

    id_number = models.CharField(_("identity number"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=64, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    household_no = models.CharField(_("household number"), max_length=32, blank=True,
                                    db_index=True)
    grid = models.ForeignKey("geo.AreaNode", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("grid"))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("person")
        verbose_name_plural = _("persons")

    def __str__(self):
        # Masked: a person's str() ends up in logs, admin titles and audit labels.
        from zhili.registry.masking import mask_id_number, mask_name

        return f"{mask_name(self.name)} {mask_id_number(self.id_number)}"


class Organisation(AreaScopedModel):
    """A legal entity of the legal-entity registry (法人库)."""

    personal_fields = ("credit_code", "legal_representative")

    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=128, db_index=True)
    legal_representative = models.CharField(_("legal representative"), max_length=64,
                                            blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    area = models.ForeignKey("geo.AreaNode", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("area"))
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name


class HolderKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANISATION = "organisation", _("Organisation")


@dataclass(frozen=True)
class CertificateType:
    label: str
    holder: str  # a HolderKind
    department: str  # code of the department that issues it (accounts.services.DEPARTMENTS)
    prefix: str  # of generated numbers


# The certificate types the registry knows; a type is issued by one department.
CERTIFICATE_TYPES: dict[str, CertificateType] = {
    "household-register": CertificateType(
        _("Household register"), HolderKind.PERSON, "public-security", "HJ"),
    "birth-medical-certificate": CertificateType(
        _("Birth medical certificate"), HolderKind.PERSON, "health", "CS"),
    "marriage-certificate": CertificateType(
        _("Marriage certificate"), HolderKind.PERSON, "civil-affairs", "JH"),
    "social-security-card": CertificateType(
        _("Social security card"), HolderKind.PERSON, "hrss", "SB"),
    "medical-insurance-certificate": CertificateType(
        _("Medical insurance certificate"), HolderKind.PERSON, "medical-insurance", "YB"),
    "business-licence": CertificateType(
        _("Business licence"), HolderKind.ORGANISATION, "market-regulation", "YZ"),
    # Outputs of the "one thing, one go" matters (bundles/data/catalogue.json).
    "vaccination-certificate": CertificateType(
        _("Vaccination certificate"), HolderKind.PERSON, "health", "YM"),
    "death-medical-certificate": CertificateType(
        _("Medical certificate of death"), HolderKind.PERSON, "health", "SW"),
    "food-worker-health-certificate": CertificateType(
        _("Food worker health certificate"), HolderKind.PERSON, "health", "JK"),
    "cremation-certificate": CertificateType(
        _("Cremation certificate"), HolderKind.PERSON, "civil-affairs", "HH"),
    "senior-card": CertificateType(
        _("Senior citizen card"), HolderKind.PERSON, "civil-affairs", "LN"),
    "household-cancellation-proof": CertificateType(
        _("Proof of household registration cancelled"), HolderKind.PERSON, "public-security", "ZX"),
    "household-verification": CertificateType(
        _("Household registration verification"), HolderKind.PERSON, "public-security", "HY"),
    "residence-verification": CertificateType(
        _("Residence verification"), HolderKind.PERSON, "public-security", "JZ"),
    "housing-verification": CertificateType(
        _("Housing verification"), HolderKind.PERSON, "natural-resources", "FW"),
    "retirement-approval": CertificateType(
        _("Retirement approval"), HolderKind.PERSON, "hrss", "TX"),
    "pension-certificate": CertificateType(
        _("Pension certificate"), HolderKind.PERSON, "hrss", "YL"),
    "social-insurance-record": CertificateType(
        _("Social insurance record"), HolderKind.PERSON, "hrss", "CB"),
    "school-enrolment-notice": CertificateType(
        _("School enrolment notice"), HolderKind.PERSON, "education", "RX"),
    "disability-certificate": CertificateType(
        _("Disability certificate"), HolderKind.PERSON, "disabled-federation", "CJ"),
    "disability-bus-pass": CertificateType(
        _("Disability bus pass"), HolderKind.PERSON, "transport", "GJ"),
    "veteran-registration": CertificateType(
        _("Veteran registration"), HolderKind.PERSON, "veterans", "TY"),
    "veteran-preferential-card": CertificateType(
        _("Veteran preferential card"), HolderKind.PERSON, "veterans", "YD"),
    "food-business-permit": CertificateType(
        _("Food business permit"), HolderKind.ORGANISATION, "market-regulation", "SP"),
    "outdoor-sign-permit": CertificateType(
        _("Outdoor sign permit"), HolderKind.ORGANISATION, "urban-management", "ZP"),
    "excavation-permit": CertificateType(
        _("Road excavation permit"), HolderKind.ORGANISATION, "urban-management", "WJ"),
    "fire-safety-pass": CertificateType(
        _("Fire safety inspection pass"), HolderKind.ORGANISATION, "fire-rescue", "XF"),
    "seal-record": CertificateType(
        _("Company seal record"), HolderKind.ORGANISATION, "public-security", "YZB"),
    "credit-repair-decision": CertificateType(
        _("Credit repair decision"), HolderKind.ORGANISATION, "development-reform", "XY"),
}

# Data items a consent can name: a person field, or certificates of one type.
PERSON_DATA_FIELDS = ("id_number", "name", "phone", "address", "household_no")
DATA_ITEMS = tuple(f"person.{f}" for f in PERSON_DATA_FIELDS) + tuple(
    f"certificate:{slug}" for slug, t in CERTIFICATE_TYPES.items() if t.holder == HolderKind.PERSON
)


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    REVOKED = "revoked", _("Revoked")


class Certificate(AreaScopedModel):
    """An electronic certificate or licence (电子证照) held by one person or organisation."""

    personal_fields = ("number", "content")

    cert_type = models.SlugField(_("certificate type"), max_length=48)
    number = models.CharField(_("number"), max_length=64)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="certificates")
    organisation = models.ForeignKey(Organisation, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="certificates")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("issuing department"))
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    content = models.JSONField(_("content"), default=dict, blank=True)
    status = models.CharField(max_length=8, choices=CertificateStatus.choices,
                              default=CertificateStatus.VALID, db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            models.CheckConstraint(
                condition=(Q(person__isnull=False, organisation__isnull=True)
                           | Q(person__isnull=True, organisation__isnull=False)),
                name="certificate_exactly_one_holder",
            ),
            models.UniqueConstraint(fields=["cert_type", "number"],
                                    name="certificate_unique_number"),
        ]

    def __str__(self):
        from zhili.registry.masking import mask_certificate_number

        return f"{self.cert_type} {mask_certificate_number(self.number)}"

    @property
    def holder(self):
        return self.person if self.person_id else self.organisation


class Consent(AreaScopedModel):
    """A person allows a purpose to use one data item until it expires or is revoked.

    At most one consent per (person, purpose, data item) is open (not revoked);
    a consent that has passed `expires_at` is closed when a new one is granted.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    purpose = models.SlugField(_("purpose"), max_length=64)
    purpose_text = models.CharField(_("purpose, in words"), max_length=200)
    data_item = models.CharField(_("data item"), max_length=64)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "purpose", "data_item"],
                condition=Q(revoked_at__isnull=True),
                name="consent_one_open_per_item",
            ),
        ]

    def __str__(self):
        return f"{self.purpose} → {self.data_item}"

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)
