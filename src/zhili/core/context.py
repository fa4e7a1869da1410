"""Per-request context (request id, client address) for audit rows.

A contextvar, so it follows the request through sync and async code and
is empty in commands and workers, which set their own.
"""

from __future__ import annotations

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_ip: str | None = None
    channel: str = "web"


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "zhili_request_context", default=None
)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current() -> RequestContext:
    ctx = _current.get()
    if ctx is None:
        # Commands and tasks: one id per process step, channel says where.
        ctx = RequestContext(request_id=new_request_id(), channel="system")
        _current.set(ctx)
    return ctx


@contextmanager
def bind(ctx: RequestContext):
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
