"""Parsing query parameters shared by pages, search and the API."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

MAX_PAGE = 10_000


def whole_number(raw: str, minimum: int, maximum: int) -> int | None:
    """`raw` as a whole number in [minimum, maximum], or None.

    isdigit() alone accepts "²" and other digits int() rejects; only ASCII digits count.
    """
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        return None
    number = int(raw)
    return number if minimum <= number <= maximum else None


def page_number(request: Request) -> int:
    """`?page=N` as a positive number; anything else is a clear 400, never a 500."""
    number = whole_number(request.query_params.get("page", "1"), 1, MAX_PAGE)
    if number is None:
        raise HTTPException(400, f"page must be a number from 1 to {MAX_PAGE}")
    return number
