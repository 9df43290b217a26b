"""Exceptions turned into responses in one place: a calm page, or JSON under /api/."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.web.api import ApiError
from app.web.caching import keep_private
from app.web.request_id import HEADER, request_id_of

log = logging.getLogger("edgecart.errors")

TITLES = {
    400: "That request did not make sense",
    403: "That is not allowed",
    404: "We could not find that page",
    405: "That is not allowed here",
    429: "Slow down a little",
}
# Stable `code`s of JSON errors that carry none of their own (see docs/api.md).
CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 429: "rate_limited"}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    request_id = request_id_of(request.scope)
    title = TITLES.get(exc.status_code, "Something went wrong")
    if _wants_json(request):
        if isinstance(exc, ApiError):
            code = exc.code
        else:
            code = CODES.get(exc.status_code, f"http_{exc.status_code}")
        response: Response = JSONResponse(
            {"code": code, "message": exc.detail or title}, status_code=exc.status_code
        )
    else:
        response = request.app.state.templates.TemplateResponse(
            request,
            "errors/404.html" if exc.status_code == 404 else "errors/error.html",
            {"title": title, "status": exc.status_code, "request_id": request_id},
            status_code=exc.status_code,
        )
    if exc.headers:
        response.headers.update(exc.headers)
    return keep_private(response)


async def server_error(request: Request, exc: Exception) -> Response:
    """Anything unexpected: logged with the request id; the person sees the id, not a trace."""
    request_id = request_id_of(request.scope)
    log.error(
        "unhandled error", exc_info=exc, extra={"request_id": request_id, "path": request.url.path}
    )
    if _wants_json(request):
        response: Response = JSONResponse(
            {"code": "internal_error", "message": f"Something went wrong (ref {request_id})"},
            status_code=500,
        )
    else:
        response = request.app.state.templates.TemplateResponse(
            request, "errors/500.html", {"request_id": request_id}, status_code=500
        )
    # The request-id middleware sits inside the error middleware, so set the header here too.
    response.headers[HEADER] = request_id
    return keep_private(response)
