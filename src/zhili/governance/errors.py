"""Governance's own errors; all map to problem+json through the core family."""

from __future__ import annotations

from django.utils.translation import gettext as _

from zhili.core.errors import ApplicationError, Conflict


class InvalidTransition(ApplicationError):
    """The action is not allowed from the case's current state (409)."""

    def __init__(self, action: str, status: str, detail: str = ""):
        ApplicationError.__init__(
            self,
            detail=detail or _("A case in state %(status)r does not allow %(action)r.")
            % {"status": status, "action": action},
            code="invalid-transition",
            status=409,
            title=_("Not allowed in the current state"),
        )
        self.action = action
        self.current = status


class StaleVersion(Conflict):
    """The client saw an older version of the case (409; re-read and retry)."""

    def __init__(self, seen: int, current: int):
        Conflict.__init__(self, _("The case changed since you read it (you sent version "
                                  "%(seen)s, it is now %(current)s). Reload it and try again.")
                          % {"seen": seen, "current": current})
        self.current_version = current


# Added to the problem-code list on the API docs (see governance/api.py).
PROBLEM_CODES = {
    "invalid-transition": "The action is not allowed from the case's current state.",
}
