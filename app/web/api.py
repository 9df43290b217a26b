"""JSON API plumbing shared by every /api/v1 handler: parameters, errors, bodies, caching.

Handlers build explicit response dataclasses (never table models); `api_response` turns one into
JSON, names what it contains in surrogate keys, and answers 304 to a matching `If-None-Match`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Collection, Iterable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.web.caching import cache_publicly, keep_private
from app.web.params import MAX_PAGE, whole_number

MEDIA_TYPE = "application/json"
# Paging of every list: `page` from 1 to MAX_PAGE, `limit` items a page (see docs/api.md).
DEFAULT_LIMIT = 24
MAX_LIMIT = 100
# Every API response is also purged by this key, so one purge refreshes the whole API.
API_KEY = "api"


class ApiError(HTTPException):
    """An API error with a stable machine-readable code, answered as `{code, message}`."""

    def __init__(
        self, status_code: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code, message, headers)
        self.code = code


def invalid_parameter(name: str, rule: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"{name} {rule}")


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def int_param(request: Request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """A whole number in [minimum, maximum]; absent means `default`, anything else is a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    number = whole_number(raw, minimum, maximum)
    if number is None:
        raise invalid_parameter(name, f"must be a whole number from {minimum} to {maximum}")
    return number


def page_params(request: Request) -> tuple[int, int]:
    """`page` and `limit`, with their defaults."""
    page = int_param(request, "page", default=1, minimum=1, maximum=MAX_PAGE)
    limit = int_param(request, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    return page, limit


def choice_param(request: Request, name: str, choices: Collection[str], default: str) -> str:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw not in choices:
        raise invalid_parameter(name, "must be one of " + ", ".join(choices))
    return raw


def _text(name: str, raw: str, *, min_length: int, max_length: int) -> str:
    # PostgreSQL text cannot hold NUL, and an empty value is almost always a client bug.
    if not min_length <= len(raw) <= max_length or "\x00" in raw:
        raise invalid_parameter(name, f"must be {min_length} to {max_length} characters")
    return raw


def text_param(request: Request, name: str, *, max_length: int, min_length: int = 1) -> str | None:
    """A string of `min_length` to `max_length` characters, or None when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    return _text(name, raw, min_length=min_length, max_length=max_length)


def list_param(
    request: Request,
    name: str,
    *,
    max_items: int,
    max_length: int,
    choices: Collection[str] | None = None,
) -> list[str]:
    """A repeated parameter (`?price=a&price=b`): its values in order, [] when absent."""
    values = request.query_params.getlist(name)
    if len(values) > max_items:
        raise invalid_parameter(name, f"may be given at most {max_items} times")
    for value in values:
        if choices is not None and value not in choices:
            raise invalid_parameter(name, "must be one of " + ", ".join(choices))
        _text(name, value, min_length=1, max_length=max_length)
    return values


_TRUE, _FALSE = ("true", "1", "on"), ("false", "0")


def bool_param(request: Request, name: str, *, default: bool) -> bool:
    """`true` or `false`, as OpenAPI serialises a boolean; `1`/`on`/`0` too, as pages write."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw not in _TRUE + _FALSE:
        raise invalid_parameter(name, "must be true or false")
    return raw in _TRUE


_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def is_slug(value: str, max_length: int = 160) -> bool:
    """Could `value` be a slug? Anything else cannot name a row, so it is not looked up."""
    return len(value) <= max_length and _SLUG.fullmatch(value) is not None


def to_jsonable(value: Any) -> Any:
    """Response dataclasses (nested, in lists and dicts) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    return value


def json_bytes(value: Any) -> bytes:
    return json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":")).encode()


def _etag_matches(header: str, etag: str) -> bool:
    # Weak comparison (RFC 9110 §13.1.2): gzip on the way out must not defeat revalidation.
    if header.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in header.split(","))


def api_response(request: Request, value: Any, keys: Iterable[str]) -> Response:
    """200 with `value` as JSON, or 304 if the client holds it; public and cacheable either way."""
    body = json_bytes(value)
    etag = 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    if _etag_matches(request.headers.get("if-none-match", ""), etag):
        response = Response(status_code=304)
    else:
        response = Response(body, media_type=MEDIA_TYPE)
    response.headers["ETag"] = etag
    return cache_publicly(response, request.app.state.settings, [API_KEY, *keys])


def private_response(
    value: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """`value` as JSON for one caller only (a token's own data): `private, no-store`."""
    return keep_private(JSONResponse(to_jsonable(value), status_code, headers))


# --- JSON request bodies (the write endpoints) ---------------------------------------------


def invalid_field(name: str, rule: str) -> ApiError:
    """422: the body parsed but a field breaks a rule; the message starts with its name."""
    return ApiError(422, "invalid_field", f"{name} {rule}")


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; 400 `bad_request` if it is anything else."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise ApiError(400, "bad_request", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    return body


def body_int(body: dict[str, Any], name: str, *, minimum: int, maximum: int) -> int:
    value = body.get(name)
    # bool is an int in Python, never in JSON.
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise invalid_field(name, f"must be a whole number from {minimum} to {maximum}")
    return value


def body_text(body: dict[str, Any], name: str, *, max_length: int, min_length: int = 1) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not min_length <= len(value) <= max_length or "\x00" in value:
        raise invalid_field(name, f"must be a string of {min_length} to {max_length} characters")
    return value
