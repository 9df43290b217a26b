"""The authorization server over HTTP: /oauth/authorize (consent), /oauth/token, /oauth/revoke.

The token and revocation endpoints answer RFC 6749 §5.2 errors as JSON `{error,
error_description}` with `Cache-Control: no-store`; they are CSRF-exempt (clients authenticate
themselves). The consent page is a personal page with a CSRF token. Rules are in
`oauth_authorize.py` and `oauth_grants.py`; `/.well-known/…` is in `oauth_metadata.py`.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote, unquote_plus, urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from app.accounts import oauth_authorize, oauth_grants
from app.accounts.oauth_authorize import AuthorizationRequest, RedirectError, UnsafeRequest
from app.accounts.oauth_errors import OAuthError, invalid_client, invalid_request
from app.accounts.oauth_scopes import SCOPES
from app.accounts.oauth_tokens import AccessClaims, InvalidToken
from app.db import transaction
from app.web.bearer import verify_token
from app.web.caching import keep_private
from app.web.forms import personal_form, render_personal
from app.web.security import content_security_policy
from app.web.sessions import signed_in

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_TOKEN_FIELDS = ("grant_type", "scope", "code", "redirect_uri", "code_verifier", "refresh_token")


def oauth_error(error: OAuthError) -> Response:
    headers = dict(NO_STORE)
    if error.status_code == 401:
        headers["WWW-Authenticate"] = 'Basic realm="edgecart"'
    body = {"error": error.code, "error_description": error.description}
    return JSONResponse(body, status_code=error.status_code, headers=headers)


def _values(form: FormData) -> dict[str, str]:
    """Single string values; a repeated parameter is an error (RFC 6749 §3.2)."""
    values: dict[str, str] = {}
    for name, value in form.multi_items():
        if name in values or not isinstance(value, str):
            raise invalid_request(f"{name} must be given once, as text.")
        values[name] = value
    return values


def _client(request: Request, values: dict[str, str]) -> tuple[str, str | None]:
    """(client_id, secret) from HTTP Basic or the form (RFC 6749 §2.3.1), never both."""
    header = request.headers.get("authorization")
    if header is None:
        if not values.get("client_id"):
            raise invalid_client()
        return values["client_id"], values.get("client_secret")
    scheme, _, encoded = header.partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_client() from None
    raw_id, colon, raw_secret = decoded.partition(":")
    if scheme.lower() != "basic" or not colon:
        raise invalid_client()
    client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    if "client_secret" in values or values.get("client_id", client_id) != client_id:
        raise invalid_request("Authenticate the client one way only: HTTP Basic or the form.")
    return client_id, secret


async def _policy(request: Request) -> oauth_grants.TokenPolicy:
    state = request.app.state
    return oauth_grants.TokenPolicy(
        issuer=state.settings.site_url,
        access_seconds=state.settings.oauth_access_token_seconds,
        refresh_days=state.settings.oauth_refresh_token_days,
        key=await state.signing_keys.signing_key(state.sessionmaker),
    )


async def token(request: Request) -> Response:
    try:
        issued = await _issue(request)
    except OAuthError as error:
        return oauth_error(error)
    return JSONResponse(issued.as_json(), headers=NO_STORE)


async def _issue(request: Request) -> oauth_grants.IssuedTokens:
    values = _values(await request.form())
    client_id, secret = _client(request, values)
    fields = {name: values.get(name) for name in _TOKEN_FIELDS}
    asked = oauth_grants.TokenRequest(client_id, secret, **fields)
    policy = await _policy(request)
    async with transaction(request.app.state.sessionmaker) as db:
        try:
            return await oauth_grants.exchange(db, request.app.state.redis, asked, policy)
        except OAuthError as error:
            failed = error
    # Raised only after the commit: a replayed code or refresh token revokes its grant.
    raise failed


async def revoke(request: Request) -> Response:
    """RFC 7009: 200 whether or not the token was known (a client learns nothing)."""
    try:
        values = _values(await request.form())
        client_id, secret = _client(request, values)
        if not values.get("token"):
            raise invalid_request("token is missing.")
        access = await _access_claims(request, values["token"])
        async with transaction(request.app.state.sessionmaker) as db:
            await oauth_grants.revoke(
                db, request.app.state.redis, client_id, secret, values["token"], access
            )
    except OAuthError as error:
        return oauth_error(error)
    return Response(status_code=200, headers=NO_STORE)


async def _access_claims(request: Request, token: str) -> AccessClaims | None:
    if token.count(".") != 2:  # not a JWT: a refresh token
        return None
    try:
        return await verify_token(request, token)
    except InvalidToken:
        return None


# --- the consent page ---------------------------------------------------------------------


def _form_action(uri: str) -> str:
    """The CSP source of a redirect URI: its origin, or its scheme for an app's own scheme."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"


def _to_signin(request: Request) -> Response:
    target = quote(request.url.path + "?" + request.url.query, safe="/")
    return keep_private(RedirectResponse(f"/account/login?next={target}", status_code=303))


def _refused(request: Request, message: str) -> Response:
    context = {"message": message}
    return render_personal(request, "accounts/oauth_error.html", context, status_code=400)


async def _checked(request: Request, items: list[tuple[str, str]]) -> AuthorizationRequest:
    async with transaction(request.app.state.sessionmaker) as db:
        return await oauth_authorize.check_request(db, items, request.app.state.settings.site_url)


async def authorize_page(request: Request) -> Response:
    try:
        asked = await _checked(request, request.query_params.multi_items())
    except UnsafeRequest as error:
        return _refused(request, str(error))
    except RedirectError as error:
        return keep_private(RedirectResponse(error.url, status_code=303))
    found = await signed_in(request)
    if found is None:
        return _to_signin(request)
    session, account = found
    scopes = [(scope, SCOPES[scope]) for scope in asked.scopes]
    back_to = _form_action(asked.redirect_uri)
    context = {"asked": asked, "account": account, "scopes": scopes,
               "fields": asked.form_fields(), "back_to": back_to}  # fmt: skip
    response = render_personal(request, "accounts/oauth_consent.html", context, session=session)
    response.headers["Content-Security-Policy"] = content_security_policy([back_to])
    return response


async def authorize_submit(request: Request) -> Response:
    found = await signed_in(request)
    if found is None:
        return _refused(request, "Your session has ended: go back to the app and start again.")
    session, account = found
    form = await personal_form(request, session)
    items = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    issuer = request.app.state.settings.site_url
    try:
        asked = await _checked(request, items)
    except UnsafeRequest as error:
        return _refused(request, str(error))
    except RedirectError as error:
        return keep_private(RedirectResponse(error.url, status_code=303))
    if form.get("decision") == "approve":
        url = await oauth_authorize.approve(request.app.state.redis, asked, account.id or 0, issuer)
    else:
        url = oauth_authorize.deny(asked, issuer)
    return keep_private(RedirectResponse(url, status_code=303))


routes = [
    Route("/oauth/authorize", authorize_page, methods=["GET"], name="oauth_authorize"),
    Route("/oauth/authorize", authorize_submit, methods=["POST"], name="oauth_authorize_submit"),
    Route("/oauth/token", token, methods=["POST"], name="oauth_token"),
    Route("/oauth/revoke", revoke, methods=["POST"], name="oauth_revoke"),
]
