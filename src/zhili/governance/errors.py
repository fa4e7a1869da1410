"""Governance's own errors; all map to problem+json through the core family."""

from __future__ import annotations

from zhili.core.errors import ApplicationError, Conflict


class InvalidTransition(ApplicationError):
    """The action is not allowed from the case's current state (409)."""

    def __init__(self, action: str, status: str, detail: str = ""):
        ApplicationError.__init__(
            self,
            detail=detail or f"A case in state {status!r} cannot be {action!r}-ed.",
            code="invalid-transition",
            status=409,
            title="Not allowed in the current state",
        )
        self.action = action
        self.current = status


class StaleVersion(Conflict):
    """The client saw an older version of the case (409; re-read and retry)."""

    def __init__(self, seen: int, current: int):
        Conflict.__init__(self, f"The case changed since you read it (you sent version {seen}, "
                                f"it is now {current}). Reload it and try again.")
        self.current_version = current


# Added to the problem-code list on the API docs (see governance/api.py).
PROBLEM_CODES = {
    "invalid-transition": "The action is not allowed from the case's current state.",
}
