"""Session cookies: the browser holds an opaque token; `app/accounts/sessions.py` holds the rest.

Handlers ask for the session only when they need it, so a catalog page never touches Redis.
A cookie is set only by a response that starts, renews or ends a session — never by a public,
cacheable one (the edge contract in DESIGN.md).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.accounts import sessions
from app.accounts.sessions import Session

COOKIE = "edgecart_session"
_LOADED = "edgecart_session_loaded"


async def current_session(request: Request) -> Session | None:
    """The visitor's live session, loaded once per request; None without a (valid) cookie."""
    if _LOADED not in request.scope:
        token = request.cookies.get(COOKIE, "")
        found = await sessions.load_session(request.app.state.redis, token) if token else None
        request.scope[_LOADED] = found
    loaded: Session | None = request.scope[_LOADED]
    return loaded


async def signed_in_account_id(request: Request) -> int | None:
    session = await current_session(request)
    return session.account_id if session is not None else None


def remember(request: Request, session: Session | None) -> None:
    """Make `session` the request's session (after sign-in or sign-out in this request)."""
    request.scope[_LOADED] = session


def set_session_cookie(request: Request, response: Response, session: Session) -> Response:
    settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        session.token,
        # Staff sessions end with the browser; shoppers stay signed in until absolute expiry.
        max_age=None if session.staff else session.policy.absolute_seconds,
        path="/",
        secure=settings.session_cookie_secure,
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def clear_session_cookie(request: Request, response: Response) -> Response:
    settings = request.app.state.settings
    response.delete_cookie(
        COOKIE, path="/", secure=settings.session_cookie_secure, httponly=True, samesite="lax"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
