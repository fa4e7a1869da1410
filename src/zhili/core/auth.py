"""The API's authenticators, registered by the app that owns users.

Lower apps (geo) offer public endpoints that still know who is asking
(`optional_auth`) without importing accounts: accounts registers its bearer
token and session checks here, the project's NinjaAPI uses the same list.
"""

from __future__ import annotations

_AUTHENTICATORS: list = []


def api_auth_register(*authenticators) -> None:
    """Add authenticators (ninja auth callables), tried in order; registering twice is a no-op."""
    for auth in authenticators:
        if auth not in _AUTHENTICATORS:
            _AUTHENTICATORS.append(auth)


def api_authenticators() -> list:
    return list(_AUTHENTICATORS)


class OptionalAuth:
    """For public endpoints: the caller when one authenticates, else anonymous (allowed)."""

    def __call__(self, request):
        for auth in _AUTHENTICATORS:
            user = auth(request)
            if user:
                return user
        return True


optional_auth = OptionalAuth()
