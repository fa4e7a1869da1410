"""Supervision's errors; all map to problem+json through the core family."""

from __future__ import annotations

from django.utils.translation import gettext as _

from zhili.core.errors import ApplicationError


class InvalidTransition(ApplicationError):
    """The action is not allowed from the problem's current state (409)."""

    def __init__(self, action: str, status: str):
        ApplicationError.__init__(
            self,
            detail=_("A problem in state %(status)r does not allow %(action)r.")
            % {"status": status, "action": action},
            code="invalid-transition", status=409,
            title=_("Not allowed in the current state"))
        self.action = action
        self.current = status
