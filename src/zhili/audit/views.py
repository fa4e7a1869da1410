from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from zhili.audit import selectors
from zhili.audit.forms import EntrySearchForm
from zhili.core.errors import PermissionDenied

PAGE_SIZE = 50


@login_required
def entry_list(request):
    """Search the audit log: anonymous → login; no audit.view → 403; else your area's entries."""
    try:
        entries = selectors.entry_list(actor=request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc)) from None
    form = EntrySearchForm(request.GET or None)
    page = None
    if not form.is_bound:
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    elif form.is_valid():
        entries = selectors.entries_filtered(entries, form.cleaned_data)
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    # An invalid form shows its errors and no rows, rather than an unfiltered list.
    return render(request, "audit/entry_list.html", {"form": form, "page": page})
