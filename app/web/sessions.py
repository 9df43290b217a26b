"""Session cookies: the browser holds an opaque token; `app/accounts/sessions.py` holds the rest.

Handlers ask for the session only when they need it, so a catalog page never touches Redis.
A cookie is set only by a response that starts, renews or ends a session — never by a public,
cacheable one (the edge contract in DESIGN.md).
"""

from __future__ import annotations

import json
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts import service as accounts
from app.accounts import sessions
from app.accounts.models import UserAccount
from app.accounts.sessions import Session
from app.db import transaction
from app.web.caching import keep_private

COOKIE = "edgecart_session"
# Not a secret and readable by scripts, unlike COOKIE (HttpOnly): it only says "this browser
# has a session", so cached pages ask /fragments/me for the personal parts only when there is
# something personal to show (app/static/js/me.js). Set and cleared with the session cookie.
MARKER_COOKIE = "edgecart_has_session"
CART_TOKEN_KEY = "cart"  # noqa: S105  (the session data key holding the cart token)
ORDERS_KEY = "orders"  # the order numbers placed in this session: a guest may see their pages
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
    response.set_cookie(
        MARKER_COOKIE,
        "1",
        max_age=None if session.staff else session.policy.absolute_seconds,
        path="/",
        secure=settings.session_cookie_secure,
        httponly=False,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def clear_session_cookie(request: Request, response: Response) -> Response:
    settings = request.app.state.settings
    response.delete_cookie(
        COOKIE, path="/", secure=settings.session_cookie_secure, httponly=True, samesite="lax"
    )
    response.delete_cookie(
        MARKER_COOKIE, path="/", secure=settings.session_cookie_secure, samesite="lax"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


class SignInRequired(Exception):
    """A personal page asked for by someone not signed in: `sign_in_first` answers it."""


async def sign_in_first(request: Request, exc: Exception) -> Response:
    """Off to the sign-in page, coming back here afterwards (registered in app/main.py)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return keep_private(RedirectResponse(f"/account/login?next={quote(target)}", status_code=303))


async def signed_in(request: Request) -> tuple[Session, UserAccount] | None:
    session = await current_session(request)
    if session is None or session.account_id is None:
        return None
    async with transaction(request.app.state.sessionmaker) as db:
        account = await accounts.get_account(db, session.account_id)
    return (session, account) if account is not None else None


async def require_account(request: Request) -> tuple[Session, UserAccount]:
    """The signed-in person's session and account; raises SignInRequired otherwise."""
    found = await signed_in(request)
    if found is None:
        raise SignInRequired
    return found


def placed_order_numbers(session: Session | None) -> list[str]:
    """The numbers of the orders placed in this session, newest first (checkout keeps them)."""
    if session is None:
        return []
    numbers: list[str] = json.loads(session.data.get(ORDERS_KEY, "[]"))
    return numbers


async def require_staff(request: Request) -> tuple[Session, UserAccount]:
    """A staff member in a staff session; anyone else gets 404, so staff pages do not even
    show that they exist."""
    found = await signed_in(request)
    if found is None or not found[1].is_staff or not found[0].staff:
        raise HTTPException(404)
    return found
