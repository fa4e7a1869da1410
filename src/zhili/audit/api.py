"""/api/v1/audit: search the audit log and check its chain (readers with audit.view)."""

from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from zhili.audit import selectors
from zhili.audit.schemas import ERRORS, EntryFilters, EntryOut, EntryPage, VerifyOut
from zhili.audit.services import audit_verify
from zhili.core.errors import PermissionDenied
from zhili.core.pagination import PageParams, paginate

router = Router(tags=["audit"])
MAX_ID = 2**63 - 1  # a bigint; larger ids would be a database error, not a 404


@router.get("/entries", response={200: EntryPage, **ERRORS},
            summary="Search audit entries in your area")
def entry_list(request, filters: Query[EntryFilters], page: Query[PageParams]):
    """Newest first. Needs `audit.view` (403 without it); only entries of your
    area, and entries with no area only if your area is the whole city."""
    entries = selectors.entry_list(actor=request.auth, filters=filters.dict())
    return paginate(entries, page)


@router.get("/entries/{entry_id}", response={200: EntryOut, **ERRORS},
            summary="One audit entry")
def entry_detail(request, entry_id: int = Path(..., ge=1, le=MAX_ID)):
    """404 for a missing entry and for one outside your area alike."""
    return selectors.entry_get_for(actor=request.auth, entry_id=entry_id)


@router.get("/verify", response={200: VerifyOut, **ERRORS},
            summary="Check the whole hash chain")
def verify(request):
    """Walks every entry (for readers of the whole city's log). On a large log
    this takes a while: prefer `zhili audit verify` on the server."""
    if not selectors.may_verify(request.auth):
        raise PermissionDenied(_("Verifying the audit chain needs audit.view over the whole city."))
    result = audit_verify()
    return {"entries": result.checked, "ok": result.ok, "problems": result.problems,
            "unsequenced": result.unsequenced}
