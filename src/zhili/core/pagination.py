"""Page-number pagination shared by every list endpoint."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field

MAX_PAGE_SIZE = 500


class PageParams(Schema):
    page: int = Field(1, ge=1, le=1_000_000, description="1-based page number")
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="rows per page")


def paginate(queryset, params: PageParams) -> dict:
    """A page of a queryset with its total, in one COUNT and one SELECT."""
    total = queryset.count()
    start = (params.page - 1) * params.page_size
    items = list(queryset[start : start + params.page_size])
    return {
        "count": total,
        "page": params.page,
        "page_size": params.page_size,
        "items": items,
    }
