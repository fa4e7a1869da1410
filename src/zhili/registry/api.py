"""/api/v1/registry: persons, organisations, e-certificates and consents.

Thin: parse, call one selector or service, serialise. Responses are masked
by their schemas; only the `/reveal` endpoints return data in full, and
those write an audit row with the stated purpose.
"""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Query, Router, Status

from zhili.core.errors import invalid
from zhili.core.pagination import PageParams, paginate
from zhili.core.schemas import ProblemOut
from zhili.registry import selectors, services
from zhili.registry.schemas import (
    ERRORS,
    WRITE_ERRORS,
    CertificateFilterIn,
    CertificateFull,
    CertificateIn,
    CertificateOut,
    CertificatePage,
    ConsentIn,
    ConsentOut,
    ConsentPage,
    OrganisationFilterIn,
    OrganisationIn,
    OrganisationOut,
    OrganisationPage,
    PersonFilterIn,
    PersonFull,
    PersonIn,
    PersonLookupIn,
    PersonOut,
    PersonPage,
    PersonPatch,
    RevealIn,
    RevokeIn,
)

router = Router(tags=["registry"])


def _no_store(response: HttpResponse):
    # Unmasked personal data must not linger in browser or proxy caches.
    response["Cache-Control"] = "no-store"


# --- persons ---------------------------------------------------------------------------------

@router.get("/persons", response={200: PersonPage, **ERRORS},
            summary="Persons in your area (masked)")
def person_list(request, filters: Query[PersonFilterIn], page: Query[PageParams]):
    """Listing masked persons is not a read of personal data and is not audited."""
    data = filters.dict()
    if data.pop("q"):
        raise invalid("q", "look a person up with POST /api/v1/registry/persons/lookup")
    return paginate(selectors.person_list(actor=request.user,
                                          filters=selectors.PersonFilters(**data)), page)


@router.post("/persons/lookup", response={200: PersonPage, **ERRORS, 429: ProblemOut},
             summary="Look persons up by a whole identity number or name (audited, limited)")
def person_lookup(request, payload: PersonLookupIn, page: Query[PageParams]):
    """An exact match only, for a stated purpose: audited as `person.lookup` and limited
    per user (429 `throttled`). A part of a number is a 422 on `q`. Results stay masked."""
    data = payload.dict()
    q, purpose = data.pop("q"), data.pop("purpose")
    return paginate(services.person_lookup(actor=request.user, q=q, purpose=purpose,
                                           filters=selectors.PersonFilters(**data)), page)


@router.post("/persons", response={201: PersonOut, **WRITE_ERRORS}, summary="Register a person")
def person_create(request, payload: PersonIn):
    person = services.person_create(actor=request.user, **payload.dict())
    return Status(201, person)


@router.get("/persons/{person_id}", response={200: PersonOut, **ERRORS},
            summary="One person (masked)")
def person_get(request, person_id: int):
    return selectors.person_get_for(request.user, person_id)


@router.patch("/persons/{person_id}", response={200: PersonOut, **WRITE_ERRORS},
              summary="Change a person (they must stay in your area)")
def person_update(request, person_id: int, payload: PersonPatch):
    person = selectors.person_get_for(request.user, person_id)
    return services.person_update(actor=request.user, person=person,
                                  **payload.dict(exclude_unset=True))


@router.post("/persons/{person_id}/reveal", response={200: PersonFull, **ERRORS},
             summary="One person in full, for a stated purpose (audited)")
def person_reveal(request, response: HttpResponse, person_id: int, payload: RevealIn):
    person = selectors.person_get_for(request.user, person_id)
    person = services.person_reveal(actor=request.user, person=person, purpose=payload.purpose)
    _no_store(response)
    return person


@router.get("/persons/{person_id}/consents", response={200: ConsentPage, **ERRORS},
            summary="A person's consents, newest first")
def consent_list(request, person_id: int, page: Query[PageParams]):
    person = selectors.person_get_for(request.user, person_id)
    return paginate(selectors.consent_list_for(actor=request.user, person=person), page)


@router.post("/persons/{person_id}/consents", response={201: ConsentOut, **WRITE_ERRORS},
             summary="Record a consent the person gave")
def consent_grant(request, person_id: int, payload: ConsentIn):
    person = selectors.person_get_for(request.user, person_id)
    consent = services.consent_grant(actor=request.user, person=person, **payload.dict())
    return Status(201, consent)


@router.post("/consents/{consent_id}/revoke", response={200: ConsentOut, **WRITE_ERRORS},
             summary="Revoke a consent")
def consent_revoke(request, consent_id: int):
    consent = selectors.consent_get_for(request.user, consent_id)
    return services.consent_revoke(actor=request.user, consent=consent)


# --- organisations ---------------------------------------------------------------------------

@router.get("/organisations", response={200: OrganisationPage, **ERRORS, 429: ProblemOut},
            summary="Organisations in your area")
def organisation_list(request, filters: Query[OrganisationFilterIn], page: Query[PageParams]):
    data = filters.dict()
    purpose = data.pop("purpose")
    chosen = selectors.OrganisationFilters(**data)
    if selectors.organisation_lookup_match(chosen.q) is not None:
        qs = services.organisation_lookup(actor=request.user, q=chosen.q, purpose=purpose,
                                          filters=chosen)
    else:
        qs = selectors.organisation_list(actor=request.user, filters=chosen)
    return paginate(qs, page)


@router.post("/organisations", response={201: OrganisationOut, **WRITE_ERRORS},
             summary="Register an organisation")
def organisation_create(request, payload: OrganisationIn):
    return Status(201, services.organisation_create(actor=request.user, **payload.dict()))


@router.get("/organisations/{organisation_id}", response={200: OrganisationOut, **ERRORS},
            summary="One organisation")
def organisation_get(request, organisation_id: int):
    return selectors.organisation_get_for(request.user, organisation_id)


# --- certificates ----------------------------------------------------------------------------

@router.get("/certificates", response={200: CertificatePage, **ERRORS},
            summary="E-certificates in your area (masked); filter by holder, type, status")
def certificate_list(request, filters: Query[CertificateFilterIn], page: Query[PageParams]):
    qs = selectors.certificate_list(actor=request.user,
                                    filters=selectors.CertificateFilters(**filters.dict()))
    return paginate(qs, page)


@router.post("/certificates", response={201: CertificateOut, **WRITE_ERRORS},
             summary="Issue an e-certificate")
def certificate_issue(request, payload: CertificateIn):
    data = payload.dict()
    holder = selectors.certificate_holder_for(
        request.user, person=data.pop("holder_person"), organisation=data.pop("holder_organisation"))
    return Status(201, services.certificate_issue(actor=request.user, holder=holder, **data))


@router.get("/certificates/{certificate_id}", response={200: CertificateOut, **ERRORS},
            summary="One e-certificate (masked)")
def certificate_get(request, certificate_id: int):
    return selectors.certificate_get_for(request.user, certificate_id)


@router.post("/certificates/{certificate_id}/revoke",
             response={200: CertificateOut, **WRITE_ERRORS}, summary="Revoke an e-certificate")
def certificate_revoke(request, certificate_id: int, payload: RevokeIn):
    certificate = selectors.certificate_get_for(request.user, certificate_id)
    return services.certificate_revoke(actor=request.user, certificate=certificate,
                                       reason=payload.reason)


@router.post("/certificates/{certificate_id}/reveal", response={200: CertificateFull, **ERRORS},
             summary="One e-certificate in full, for a stated purpose (audited)")
def certificate_reveal(request, response: HttpResponse, certificate_id: int, payload: RevealIn):
    certificate = selectors.certificate_get_for(request.user, certificate_id)
    certificate = services.certificate_reveal(actor=request.user, certificate=certificate,
                                              purpose=payload.purpose)
    _no_store(response)
    return certificate
