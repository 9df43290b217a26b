"""Page-or-fragment rendering: one URL answers a whole page, or its fragment for htmx."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response


def is_fragment_request(request: Request) -> bool:
    """An htmx request that wants a piece of page: not boosted, not a history restore."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    request: Request,
    page: str,
    context: Mapping[str, Any],
    *,
    fragment: str | None = None,
    status_code: int = 200,
) -> Response:
    """Render `page`, or `fragment` for an htmx fragment request; always `Vary: HX-Request`."""
    templates = request.app.state.templates
    name = fragment if fragment and is_fragment_request(request) else page
    response: Response = templates.TemplateResponse(
        request, name, dict(context), status_code=status_code
    )
    response.headers.append("Vary", "HX-Request")
    return response
