"""Schemas every API router shares: the RFC 9457 problem body."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field


class FieldErrorOut(Schema):
    field: str
    message: str


class ProblemOut(Schema):
    """RFC 9457 problem details, as every error leaves the API."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[FieldErrorOut] | None = None


def _not_a_bool(value):
    # pydantic's lax mode reads JSON true as 1; a coordinate or a version never is one.
    if isinstance(value, bool):
        raise ValueError("a number, not true or false")
    return value


# Numbers in input schemas: lax about "106.5" from a form, strict about booleans.
Number = Annotated[float, BeforeValidator(_not_a_bool)]
Integer = Annotated[int, BeforeValidator(_not_a_bool)]
# A primary key: what a bigint column holds, so a 30-digit id is a 422, not an overflow.
Id = Annotated[int, BeforeValidator(_not_a_bool), Field(ge=1, le=2**63 - 1)]

# Far enough inside datetime's range that a zone change or a day's end never overflows.
MIN_YEAR, MAX_YEAR = 1900, 9998


def _in_calendar(value):
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"a date between the years {MIN_YEAR} and {MAX_YEAR}")
    return value


Day = Annotated[date, AfterValidator(_in_calendar)]
Moment = Annotated[datetime, AfterValidator(_in_calendar)]


# The error responses to declare on endpoints, so OpenAPI lists them.
ERRORS = {401: ProblemOut, 403: ProblemOut, 404: ProblemOut, 422: ProblemOut}
WRITE_ERRORS = {**ERRORS, 409: ProblemOut}
