"""Parsing query parameters shared by several pages."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request

MAX_PAGE = 10_000


def page_number(request: Request) -> int:
    """`?page=N` as a positive number; anything else is a clear 400, never a 500."""
    raw = request.query_params.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise HTTPException(400, f"page must be a number from 1 to {MAX_PAGE}")
    return int(raw)
