"""Pages of the base registries: masked lists and details, and the audited reveal.

Rows are shown through the API's `…Out` schemas, so a page masks exactly as
the API does; only the reveal view renders a `…Full` schema, after the
service has written its audit row.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhili.core import errors
from zhili.core.pagination import PageParams, paginate
from zhili.core.scoping import scope_of
from zhili.registry import selectors, services
from zhili.registry.schemas import (
    CertificateOut,
    ConsentOut,
    OrganisationOut,
    PersonFull,
    PersonOut,
)

PAGE_SIZE = 25


class PersonFilterForm(forms.Form):
    q = forms.CharField(label=_("Whole name or whole ID number"), required=False,
                        max_length=64)
    purpose = forms.CharField(label=_("Purpose of the look-up"), required=False,
                              max_length=services.PURPOSE_MAX)
    area = forms.CharField(label=_("Area code"), required=False, max_length=15)
    household_no = forms.CharField(label=_("Household number"), required=False, max_length=32)


class OrganisationFilterForm(forms.Form):
    q = forms.CharField(label=_("Part of the name, or a whole credit code"), required=False,
                        max_length=64)
    purpose = forms.CharField(label=_("Purpose (for a credit code)"), required=False,
                              max_length=services.PURPOSE_MAX)
    area = forms.CharField(label=_("Area code"), required=False, max_length=15)


class RevealForm(forms.Form):
    purpose = forms.CharField(
        label=_("Purpose"), min_length=services.PURPOSE_MIN, max_length=services.PURPOSE_MAX,
        help_text=_("Why you need the full record. It is written to the audit log."),
    )


def _page_number(request) -> int:
    try:
        return max(1, min(int(request.GET.get("page", "1")), 1_000_000))
    except ValueError:
        return 1


def _select_persons(actor, data: dict):
    q, purpose = data.pop("q"), data.pop("purpose")
    filters = selectors.PersonFilters(**data)
    if q:
        return services.person_lookup(actor=actor, q=q, purpose=purpose, filters=filters)
    return selectors.person_list(actor=actor, filters=filters)


def _lookup_by_post(request, form) -> bool:
    """A look-up comes by POST: a number or name in a URL would end up in logs and
    histories. A `q` in the query string is refused on the form. True if it is valid."""
    if request.method == "GET" and request.GET.get("q"):
        form.is_valid()
        form.add_error("q", _("Use the search form: a look-up is not sent in the address."))
        return False
    return True


def _select_organisations(actor, data: dict):
    purpose = data.pop("purpose")
    filters = selectors.OrganisationFilters(**data)
    if selectors.organisation_lookup_match(filters.q) is not None:
        return services.organisation_lookup(actor=actor, q=filters.q, purpose=purpose,
                                            filters=filters)
    return selectors.organisation_list(actor=actor, filters=filters)


def _list(request, form, select, permission: str):
    """Run a list selector (or look-up) with a filter form: the page dict, or None if the
    form has errors."""
    if scope_of(request.user, permission).empty:
        raise DjangoPermissionDenied
    if not form.is_valid():
        return None
    try:
        qs = select(request.user, dict(form.cleaned_data))
    except errors.ValidationFailed as exc:
        for error in exc.errors:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        return None
    except errors.Throttled as exc:
        form.add_error(None, exc.detail)
        return None
    posted = request.method == "POST"
    # A look-up's matches (at most LOOKUP_MAX_MATCHES) fit on one page: no second POST.
    size = services.LOOKUP_MAX_MATCHES if posted else PAGE_SIZE
    page = paginate(qs, PageParams(page=1 if posted else _page_number(request), page_size=size))
    page["has_next"] = page["page"] * page["page_size"] < page["count"]
    query = (request.POST if posted else request.GET).copy()
    for key in ("page", "csrfmiddlewaretoken", *(("q", "purpose") if posted else ())):
        query.pop(key, None)
    page["query"] = query.urlencode()
    return page


@login_required
@require_http_methods(["GET", "POST"])
def person_list(request):
    """The masked list (GET, with area/household filters) and the audited look-up (POST)."""
    form = PersonFilterForm(request.POST if request.method == "POST" else request.GET)
    page = None
    if _lookup_by_post(request, form):
        page = _list(request, form, _select_persons, "registry.view_person")
    elif scope_of(request.user, "registry.view_person").empty:
        raise DjangoPermissionDenied
    rows = [PersonOut.from_orm(p) for p in page["items"]] if page else []
    return render(request, "registry/person_list.html", {"form": form, "page": page, "rows": rows})


def _person_context(request, person, **extra) -> dict:
    try:
        certificates = selectors.certificate_list(
            actor=request.user, filters=selectors.CertificateFilters(person=person.pk))[:50]
    except errors.PermissionDenied:
        certificates = []
    consents = selectors.consent_list_for(actor=request.user, person=person)[:50]
    may_reveal = scope_of(request.user, "registry.reveal_person").covers(person.area_path)
    return {
        "person": PersonOut.from_orm(person),
        "certificates": [CertificateOut.from_orm(c) for c in certificates],
        "consents": [ConsentOut.from_orm(c) for c in consents],
        "may_reveal": may_reveal,
        "form": RevealForm(),
        **extra,
    }


def _person_or_404(request, pk):
    try:
        return selectors.person_get_for(request.user, pk)
    except errors.NotFound:
        raise Http404 from None


@login_required
@require_GET
def person_detail(request, pk: int):
    person = _person_or_404(request, pk)
    return render(request, "registry/person_detail.html", _person_context(request, person))


@login_required
@require_POST
def person_reveal(request, pk: int):
    """Show one person in full after the purpose is given; the service audits it."""
    person = _person_or_404(request, pk)
    form = RevealForm(request.POST)
    if not form.is_valid():
        context = _person_context(request, person, form=form)
        return render(request, "registry/person_detail.html", context, status=422)
    try:
        person = services.person_reveal(actor=request.user, person=person,
                                        purpose=form.cleaned_data["purpose"])
    except errors.PermissionDenied:
        raise DjangoPermissionDenied from None
    except errors.ValidationFailed as exc:
        for error in exc.errors:
            form.add_error("purpose", error.message)
        context = _person_context(request, person, form=form)
        return render(request, "registry/person_detail.html", context, status=422)
    context = _person_context(request, person, full=PersonFull.from_orm(person),
                              purpose=form.cleaned_data["purpose"])
    response = render(request, "registry/person_detail.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def organisation_list(request):
    form = OrganisationFilterForm(request.GET)
    page = _list(request, form, _select_organisations, "registry.view_organisation")
    rows = [OrganisationOut.from_orm(o) for o in page["items"]] if page else []
    return render(request, "registry/organisation_list.html",
                  {"form": form, "page": page, "rows": rows})
