"""Cross-site request forgery defences that work on pages served from the edge cache.

1. Every unsafe request (POST, PUT, PATCH, DELETE) must come from our own pages: the browser's
   `Sec-Fetch-Site` says same-origin (or none: typed by the person), else `Origin` (or, failing
   that, `Referer`) names this shop. Nothing per visitor is needed, so cached HTML may hold
   forms (add to cart). Requests that carry none of the three are refused: every browser that
   runs the shop sends at least one of them on a POST.
2. Forms on personal pages (account, admin) also carry a token tied to the session
   (HMAC of the session token), checked by `check_token`. Those pages are never cached.
3. The session cookie is SameSite=Lax, so a cross-site POST arrives without it anyway.

Machine-to-machine paths (the JSON API with bearer tokens, the OAuth token and revocation
endpoints, payment webhooks) authenticate otherwise and are exempt. The OAuth consent form
(POST /oauth/authorize) is a person's form and is not: it passes both checks above.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.accounts.sessions import Session
from app.settings import Settings
from app.web.caching import keep_private

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
EXEMPT_PREFIXES = ("/api/", "/payments/webhooks/")
EXEMPT_PATHS = frozenset({"/oauth/token", "/oauth/revoke"})  # exactly these, nothing below
TOKEN_FIELD = "csrf_token"  # noqa: S105  (a field name)
TOKEN_HEADER = "x-csrf-token"  # noqa: S105  (a header name)


class CsrfError(Exception):
    """The request did not prove it came from the shop's own pages."""


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def is_same_origin(request: Request, settings: Settings) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in {"same-origin", "none"}
    allowed = {_origin_of(settings.site_url), _origin_of(str(request.base_url))}
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() in allowed
    referer = request.headers.get("referer")
    if referer is not None:
        return _origin_of(referer) in allowed
    return False


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or scope["path"].startswith(EXEMPT_PREFIXES)
            or scope["path"] in EXEMPT_PATHS
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if is_same_origin(request, self.settings):
            await self.app(scope, receive, send)
            return
        response = scope["app"].state.templates.TemplateResponse(
            request,
            "errors/cross_site.html",
            {"title": "That form came from another site", "status": 403},
            status_code=403,
        )
        await keep_private(response)(scope, receive, send)


def token_for(secret: str, session: Session) -> str:
    return hmac.new(secret.encode(), b"csrf:" + session.token.encode(), hashlib.sha256).hexdigest()


def check_token(request: Request, session: Session | None, form: FormData) -> None:
    """The form (or the X-CSRF-Token header, for htmx) carries this session's token."""
    if session is None:
        raise CsrfError("no session")
    sent = form.get(TOKEN_FIELD) or request.headers.get(TOKEN_HEADER) or ""
    expected = token_for(str(request.app.state.settings.secret_key), session)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise CsrfError("wrong token")
