"""Signing in over HTTP: rate limits, the TOTP step for staff, session rotation and cookies.

Shared by the password form, the OIDC callback and the staff code step, so every way in ends
the same way: a fresh session token, the old one gone.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app.accounts import sessions
from app.accounts.models import UserAccount
from app.cart import service as cart
from app.db import transaction
from app.web import ratelimit
from app.web.ratelimit import Rate, RateLimited, limit_key
from app.web.sessions import CART_TOKEN_KEY, current_session, remember, set_session_cookie

# Long enough for an OAuth authorize URL with its parameters (docs/oauth.md).
MAX_NEXT = 2000
SLOW_AFTER_FAILURES = 3  # from the 4th failure on, each answer is held back a little longer


def safe_next(target: str | None, default: str = "/account") -> str:
    """Only a path on this site: never `//elsewhere` or `https://elsewhere`."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target[:MAX_NEXT]
    return default


async def check_signin_limits(request: Request, email: str) -> None:
    """Raises RateLimited when this address or this account has tried too often."""
    settings = request.app.state.settings
    redis = request.app.state.redis
    await ratelimit.hit_per_address(request, "signin-ip", settings.signin_limit_per_ip)
    account_rate = Rate.parse(settings.signin_limit_per_account)
    failures, wait = await ratelimit.peek(redis, limit_key("signin-fail", email.strip().lower()))
    if failures >= account_rate.count:
        raise RateLimited(wait)


async def record_failure(request: Request, email: str) -> None:
    """Count a failed sign-in against the account, then hold the answer back a little."""
    settings = request.app.state.settings
    key = limit_key("signin-fail", email.strip().lower())
    with contextlib.suppress(RateLimited):  # counted either way; the limit bites next time
        await ratelimit.hit(
            request.app.state.redis, key, Rate.parse(settings.signin_limit_per_account)
        )
    failures, _ = await ratelimit.peek(request.app.state.redis, key)
    if failures > SLOW_AFTER_FAILURES:
        await asyncio.sleep(min(2.0, 0.25 * 2 ** (failures - SLOW_AFTER_FAILURES - 1)))


async def complete_signin(request: Request, account: UserAccount, next_path: str) -> Response:
    """Rotate the session onto the account and go on; staff with TOTP go to the code step."""
    assert account.id is not None
    redis = request.app.state.redis
    old = await current_session(request)
    await ratelimit.clear(redis, limit_key("signin-fail", account.email))
    if account.totp_secret:
        pending = old or await sessions.start_session(redis)
        pending.data.update({"totp_account": str(account.id), "next": next_path})
        await sessions.save_session(redis, pending)
        response = RedirectResponse("/account/login/code", status_code=303)
        return set_session_cookie(request, response, pending)
    return await finish_signin(request, old, account, next_path)


async def finish_signin(
    request: Request, old: sessions.Session | None, account: UserAccount, next_path: str
) -> Response:
    assert account.id is not None
    if old is not None:
        for key in ("totp_account", "next"):
            old.data.pop(key, None)
    # The cart the visitor filled as a guest joins the account's cart.
    async with transaction(request.app.state.sessionmaker) as db:
        cart_token = await cart.adopt_cart(
            db, old.data.get(CART_TOKEN_KEY) if old else None, account.id
        )
    session = await sessions.sign_in(
        request.app.state.redis, old, account.id, staff=account.is_staff
    )
    if cart_token is not None and session.data.get(CART_TOKEN_KEY) != cart_token:
        session.data[CART_TOKEN_KEY] = cart_token
        await sessions.save_session(request.app.state.redis, session)
    remember(request, session)
    default = "/admin" if account.is_staff else "/account"
    response = RedirectResponse(safe_next(next_path, default), status_code=303)
    return set_session_cookie(request, response, session)
