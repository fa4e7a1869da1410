from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from zhili.core.schemas import ERRORS, Day, ProblemOut  # noqa: F401  (re-exported)


class EntryFilters(Schema):
    actor: str | None = Field(None, max_length=150, description="username of the actor, exactly")
    action: str | None = Field(None, max_length=64,
                               description="action prefix, e.g. `person.` or `token.revoke`")
    object_type: str | None = Field(None, max_length=64, description="e.g. `registry.person`")
    object_id: str | None = Field(None, max_length=64)
    request_id: str | None = Field(None, max_length=64,
                                   description="all entries of one request (see X-Request-ID)")
    date_from: Day | None = Field(None, description="first day, inclusive (server time zone)")
    date_to: Day | None = Field(None, description="last day, inclusive (server time zone)")
    purpose: str | None = Field(None, max_length=200, description="text within the stated purpose")


class EntryOut(Schema):
    id: int
    at: datetime
    actor_id: int | None
    actor: str = Field(..., alias="actor_label", description="username at the time, "
                       "`system` for commands and jobs, `anonymous` for logged-out visitors")
    action: str
    object_type: str
    object_id: str
    area_path: str
    purpose: str
    request_id: str
    client_ip: str | None
    channel: str
    detail: dict[str, Any]
    prev_hash: str = Field(..., description="the previous entry's hash, for entries from "
                           "before the sequencer; empty since")
    entry_hash: str


class EntryPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[EntryOut]


class VerifyOut(Schema):
    entries: int = Field(..., description="sequenced entries checked")
    ok: bool = Field(..., description="no problem found among the sequenced entries")
    problems: list[str]
    unsequenced: int = Field(..., description="entries appended but not yet sequenced into "
                             "the chain: not checked, not trusted (the worker sequences them "
                             "within seconds)")
