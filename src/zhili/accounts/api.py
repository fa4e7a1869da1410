"""/api/v1/accounts: who am I, my API tokens, and (administrators) the users of my area."""

from ninja import Path, Query, Router, Status

from zhili.accounts import selectors, services
from zhili.accounts.schemas import (
    ERRORS,
    MeIn,
    MeOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserFilters,
    UserPage,
)
from zhili.core.pagination import PageParams, paginate

router = Router(tags=["accounts"])
MAX_ID = 2**63 - 1  # a bigint; larger ids would be a database error, not a 404


def _me(user) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "language": user.language,
        "roles": user.active_assignments(),
        "home_area": user.home_area(),
        "permissions": sorted(user.permissions()),
    }


@router.get("/me", response={200: MeOut, **ERRORS},
            summary="The caller, their roles and home area")
def me(request):
    return _me(request.auth)


@router.patch("/me", response={200: MeOut, **ERRORS},
              summary="Change my language")
def me_update(request, payload: MeIn):
    """The language your notifications (and, from your next login, your pages) are
    written in. An unknown language is 422 naming `language`."""
    user = request.auth
    if "language" in payload.model_fields_set:
        services.user_language_set(actor=user, user=user, language=payload.language)
    return _me(user)


@router.get("/tokens", response={200: list[TokenOut], **ERRORS},
            summary="API tokens (never their keys)")
def token_list(request, username: str | None = Query(None, max_length=150, description=(
        "another user's tokens (accounts.manage_tokens, users in your area); default: yours"))):
    return selectors.token_list(actor=request.auth, username=username)


@router.post("/tokens", response={201: TokenCreated, **ERRORS},
             summary="Mint a token for yourself")
def token_create(request, payload: TokenIn):
    """The key is in this response only. A token minted with a token expires no
    later than the one used to mint it."""
    current = getattr(request, "api_token", None)
    token, raw = services.token_create(
        actor=request.auth, user=request.auth, name=payload.name, days=payload.days,
        not_after=current.expires_at if current is not None else None,
    )
    return Status(201, {"token": token, "key": raw})


@router.delete("/tokens/{token_id}", response={200: TokenOut, **ERRORS},
               summary="Revoke a token")
def token_revoke(request, token_id: int = Path(..., ge=1, le=MAX_ID)):
    """Your own, or (accounts.manage_tokens) one of a user in your area; any
    other token is 404, like a missing one. Revoking twice is harmless."""
    token = selectors.token_get_for_revoke(actor=request.auth, token_id=token_id)
    return services.token_revoke(actor=request.auth, token=token)


@router.get("/users", response={200: UserPage, **ERRORS},
            summary="Users holding roles in your area")
def user_list(request, filters: Query[UserFilters], page: Query[PageParams]):
    """Needs accounts.manage_users (403 without it)."""
    users = selectors.user_list(actor=request.auth, filters=filters.dict())
    return paginate(users, page)

