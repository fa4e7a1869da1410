"""Reads of the base registries, always through the actor's scope.

Lists need the view permission somewhere (else 403); a detail lookup gives
the same NotFound for "missing" and "outside your area". What leaves here
are model rows: masking happens where they are shown (schemas, templates).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.errors import NotFound, PermissionDenied, invalid
from zhili.core.scoping import scope_of
from zhili.geo.selectors import node_by_code
from zhili.registry.identifiers import IdentifierError, credit_code_validate, id_number_validate
from zhili.registry.models import (
    CERTIFICATE_TYPES,
    Certificate,
    CertificateStatus,
    Consent,
    Organisation,
    Person,
)

MAX_ID = 2**63 - 1
_Q_OK = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")
# Looks like an attempt at a number (digits, X, spaces), not a name.
_NUMBERISH = re.compile(r"^[0-9Xx ]+$")
_CODEISH = re.compile(r"^[0-9A-Za-z ]{18,22}$")


@dataclass
class PersonFilters:
    area: str = ""  # any area code (full or trimmed): persons of that subtree
    household_no: str = ""


@dataclass
class OrganisationFilters:
    area: str = ""
    q: str = ""  # part of the name (public); a whole credit code is a lookup, not a filter


@dataclass
class CertificateFilters:
    person: int | None = None
    organisation: int | None = None
    cert_type: str = ""
    status: str = ""


def _scoped(model, actor, permission: str) -> QuerySet:
    if scope_of(actor, permission).empty:
        raise PermissionDenied(_("Your roles do not include this registry."))
    return model.objects.restrict(actor, permission)


def _area_prefix(code: str) -> str:
    """The path prefix of an area code; 422 on `area` if there is no such area."""
    code = (code or "").strip()
    if not code.isdigit() or not 2 <= len(code) <= 15:
        raise invalid("area", _("must be an area code of 2 to 15 digits"))
    node = node_by_code(code)
    if node is None:
        raise invalid("area", _("no area with code %(code)s") % {"code": code})
    return node.path


def _q(value: str) -> str:
    value = (value or "").strip()
    if value and not _Q_OK.match(value):
        raise invalid("q", _("at most 64 characters, without control characters"))
    return value


def _get(queryset: QuerySet, pk) -> object:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 1 <= pk <= MAX_ID:
        raise NotFound()
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


# --- persons ---------------------------------------------------------------------------------

def person_list(*, actor, filters: PersonFilters | None = None) -> QuerySet[Person]:
    filters = filters or PersonFilters()
    qs = _scoped(Person, actor, "registry.view_person").select_related("grid")
    if filters.area:
        qs = qs.filter(area_path__startswith=_area_prefix(filters.area))
    household = (filters.household_no or "").strip()
    if household:
        qs = qs.filter(household_no=household[:32])
    return qs.order_by("id")


def person_lookup_match(q: str) -> tuple[str, Q]:
    """What a person lookup matches: `("id_number", …)` for a whole, valid identity
    number (exactly), else `("name", …)` for a whole name (exactly).

    Never a part of either: a prefix or suffix search on a masked field would
    let the masked view be rebuilt one character at a time (docs/registry.md).
    A string of digits that is not a whole valid number is a 422 on `q`.
    """
    q = _q(q)
    if not q:
        raise invalid("q", _("a whole identity number or a whole name"))
    if _NUMBERISH.match(q):
        try:
            return "id_number", Q(id_number=id_number_validate(q))
        except IdentifierError:
            raise invalid("q", _("a whole identity number (18 characters, valid check "
                                 "digit); parts of a number are not searched")) from None
    return "name", Q(name=q)


def organisation_lookup_match(q: str) -> Q | None:
    """A whole, valid credit code as an exact match; None if `q` is not one."""
    q = _q(q)
    if not _CODEISH.match(q):
        return None
    try:
        return Q(credit_code=credit_code_validate(q))
    except IdentifierError:
        return None


def person_get_for(actor, person_id) -> Person:
    return _get(Person.objects.restrict(actor, "registry.view_person").select_related("grid"),
                person_id)


# --- organisations ---------------------------------------------------------------------------

def organisation_list(*, actor, filters: OrganisationFilters | None = None
                      ) -> QuerySet[Organisation]:
    filters = filters or OrganisationFilters()
    qs = _scoped(Organisation, actor, "registry.view_organisation").select_related("area")
    if filters.area:
        qs = qs.filter(area_path__startswith=_area_prefix(filters.area))
    q = _q(filters.q)
    if q:
        # Names are public registration data; the masked credit code is never
        # matched in part (a whole code goes through services.organisation_lookup).
        qs = qs.filter(name__contains=q)
    return qs.order_by("id")


def organisation_get_for(actor, organisation_id) -> Organisation:
    return _get(Organisation.objects.restrict(actor, "registry.view_organisation")
                .select_related("area"), organisation_id)


# --- certificates ----------------------------------------------------------------------------

def certificate_list(*, actor, filters: CertificateFilters | None = None
                     ) -> QuerySet[Certificate]:
    filters = filters or CertificateFilters()
    qs = _scoped(Certificate, actor, "registry.view_certificate").select_related(
        "person", "organisation", "department")
    if filters.person is not None:
        qs = qs.filter(person_id=filters.person)
    if filters.organisation is not None:
        qs = qs.filter(organisation_id=filters.organisation)
    if filters.cert_type:
        if filters.cert_type not in CERTIFICATE_TYPES:
            raise invalid("cert_type", _("one of: %(v)s") % {"v": ", ".join(CERTIFICATE_TYPES)})
        qs = qs.filter(cert_type=filters.cert_type)
    if filters.status:
        if filters.status not in CertificateStatus.values:
            raise invalid("status", _("one of: %(v)s") % {"v": ", ".join(CertificateStatus.values)})
        qs = qs.filter(status=filters.status)
    return qs.order_by("id")


def certificate_holder_for(actor, *, person: int | None = None,
                           organisation: int | None = None) -> Person | Organisation:
    """The holder named in an issue request: exactly one, and visible to the actor.

    A holder outside the actor's area reads as missing (422 on that field).
    """
    if (person is None) == (organisation is None):
        raise invalid("holder", _("name exactly one of holder_person and holder_organisation"))
    try:
        if person is not None:
            return person_get_for(actor, person)
        return organisation_get_for(actor, organisation)
    except NotFound:
        field = "holder_person" if person is not None else "holder_organisation"
        raise invalid(field, _("no such holder in your area")) from None


def certificate_get_for(actor, certificate_id) -> Certificate:
    return _get(Certificate.objects.restrict(actor, "registry.view_certificate")
                .select_related("person", "organisation", "department"), certificate_id)


# --- consent ---------------------------------------------------------------------------------

def consent_list_for(*, actor, person: Person) -> QuerySet[Consent]:
    """Consents of a person the actor can see (found through person_get_for)."""
    return (Consent.objects.restrict(actor, "registry.view_person")
            .filter(person=person).order_by("-granted_at", "-id"))


def consent_get_for(actor, consent_id) -> Consent:
    return _get(Consent.objects.restrict(actor, "registry.view_person"), consent_id)


def consent_is_active(*, person: Person, purpose: str, data_item: str, at=None) -> bool:
    """Whether the person currently allows `purpose` to use `data_item` (for other apps)."""
    at = at or timezone.now()
    return (Consent.objects.filter(person=person, purpose=purpose, data_item=data_item,
                                   revoked_at__isnull=True)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at)).exists())


def person_names(person_ids) -> dict[int, str]:
    """{id: name} of these persons, for callers that show them masked (a warning's
    acknowledgements); unscoped: the caller already holds the ids from its own rows."""
    return dict(Person.objects.filter(pk__in=list(person_ids)).values_list("id", "name"))
