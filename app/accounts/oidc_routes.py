"""The "Continue with …" pages: off to the OpenID provider, and back. Personal, never cached.

The state, nonce, PKCE verifier and where to go afterwards wait in the visitor's server-side
session (an anonymous one is started only here, when the button is clicked). The callback
takes them out whatever happens, so each one is good for a single try.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import sessions, signin
from app.accounts.oidc import OidcClient, OidcError, PendingSignin
from app.accounts.oidc_accounts import link_or_create_account
from app.accounts.sessions import Session
from app.db import transaction
from app.web import ratelimit
from app.web.caching import keep_private
from app.web.ratelimit import Rate, RateLimited, limit_key
from app.web.sessions import current_session, set_session_cookie

PENDING = "oidc"  # the session `data` key
STATUS_OF = {"unreachable": 502, "staff_account": 403}  # other refusals are 400


def provider_client(request: Request) -> OidcClient:
    client: OidcClient | None = request.app.state.oidc
    if client is None or client.config.name != request.path_params["provider"]:
        raise HTTPException(404)
    return client


async def oidc_start(request: Request) -> Response:
    client = provider_client(request)
    next_path = signin.safe_next(request.query_params.get("next"), "")
    try:
        await limit_starts(request)
        url, pending = await client.start(next_path)
    except OidcError as error:
        return failed(request, client, error, next_path)
    session = await current_session(request) or await sessions.start_session(
        request.app.state.redis
    )
    session.data[PENDING] = pending.dumps()
    await sessions.save_session(request.app.state.redis, session)
    return set_session_cookie(request, RedirectResponse(url, status_code=303), session)


async def oidc_callback(request: Request) -> Response:
    client = provider_client(request)
    session = await current_session(request)
    pending = await take_pending(request, session)
    next_path = pending.next_path if pending else ""
    try:
        identity = await client.finish(request.query_params, pending)
        async with transaction(request.app.state.sessionmaker) as db:
            account = await link_or_create_account(db, identity, client.config.label)
    except OidcError as error:
        return failed(request, client, error, next_path)
    return await signin.finish_signin(request, session, account, next_path)


async def limit_starts(request: Request) -> None:
    """Each start keeps a little in Redis: as many per address as password sign-ins."""
    rate = Rate.parse(request.app.state.settings.signin_limit_per_ip)
    key = limit_key("oidc-start-ip", ratelimit.client_address(request))
    try:
        await ratelimit.hit(request.app.state.redis, key, rate)
    except RateLimited as limited:
        raise HTTPException(429, headers={"Retry-After": str(limited.retry_after)}) from None


async def take_pending(request: Request, session: Session | None) -> PendingSignin | None:
    if session is None or PENDING not in session.data:
        return None
    raw = session.data.pop(PENDING)
    await sessions.save_session(request.app.state.redis, session)
    return PendingSignin.loads(raw)


def failed(request: Request, client: OidcClient, error: OidcError, next_path: str) -> Response:
    context = {"provider": client.config.name, "label": client.config.label,
               "message": error.message, "next": next_path}  # fmt: skip
    response: Response = request.app.state.templates.TemplateResponse(
        request, "accounts/oidc_error.html", context, status_code=STATUS_OF.get(error.code, 400)
    )
    return keep_private(response)


routes = [
    Route("/account/oidc/{provider}/start", oidc_start, name="oidc_start"),
    Route("/account/oidc/{provider}/callback", oidc_callback, name="oidc_callback"),
]
