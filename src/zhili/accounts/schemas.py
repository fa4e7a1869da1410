from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from zhili.core.schemas import ERRORS, ProblemOut  # noqa: F401  (re-exported)


class AreaRef(Schema):
    code: str
    name: str
    name_en: str
    level: str
    path: str


class DepartmentRef(Schema):
    code: str
    name: str
    name_en: str


class RoleOut(Schema):
    role: str
    role_label: str
    area: AreaRef
    department: DepartmentRef | None

    @staticmethod
    def resolve_role_label(obj) -> str:
        return str(obj.get_role_display())


class MeOut(Schema):
    username: str
    display_name: str
    language: str = Field(..., description=(
        "what pages and notifications are written in: `zh-hans`, `en`, "
        "or empty for the platform's language"))
    roles: list[RoleOut]
    home_area: AreaRef | None
    permissions: list[str] = Field(..., description="every permission held somewhere")


class MeIn(Schema):
    language: str | None = Field(None, max_length=16, description=(
        "`zh-hans`, `en`, or empty (or null) for the platform's language; absent: unchanged"))


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    is_active: bool
    roles: list[RoleOut]

    @staticmethod
    def resolve_roles(obj):
        return list(obj.role_assignments.all())


class UserFilters(Schema):
    role: str | None = Field(None, max_length=24, description="a role code, e.g. `grid_worker`")
    area: str | None = Field(None, pattern=r"^\d{2,15}$",
                             description="an area code; roles held there or below")
    q: str | None = Field(None, max_length=150, description="username starts with")
    active: bool | None = None


class UserPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[UserOut]


class TokenOut(Schema):
    id: int
    user: str = Field(..., description="username of the token's owner")
    name: str
    prefix: str = Field(..., description="the key's first characters, to recognise it")
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(..., description="to within five minutes")
    usable: bool

    @staticmethod
    def resolve_user(obj) -> str:
        return obj.user.username

    @staticmethod
    def resolve_usable(obj) -> bool:
        return obj.is_usable


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=64, description="what the token is for")
    days: int = Field(90, ge=1, le=366, description="days until it expires")


class TokenCreated(Schema):
    token: TokenOut
    key: str = Field(..., description="the bearer key: shown this once, stored only as a hash")
