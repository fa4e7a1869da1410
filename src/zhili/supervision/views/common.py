"""What the supervision pages share: who may look, and a service error shown in words."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect

from zhili.core.errors import ApplicationError
from zhili.supervision.access import VIEW


def viewer(request):
    if request.user.scope(VIEW).empty:
        raise PermissionDenied
    return request.user


def error_text(exc: ApplicationError) -> str:
    if exc.errors:
        return " · ".join(dict.fromkeys(str(e.message) for e in exc.errors))
    return str(exc.detail or exc.title)


def act(request, back: str, action, *, success: str, page=None):
    """Call a service. Refused: 404 as 404; otherwise the page again with the reason and
    the error's status (4xx), or, without `page`, back with the reason as a message."""
    try:
        action()
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from None
        if page is not None:
            return page(error=error_text(exc), status=exc.status)
        messages.error(request, error_text(exc))
        return redirect(back)
    messages.success(request, success)
    return redirect(back)
