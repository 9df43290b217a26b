"""The API as an OAuth 2.0 resource server: bearer access tokens (RFC 6750) and a rate limit
per client.

`require_scope` guards an endpoint that needs a token; `optional_scope` lets a public endpoint
(the catalog) answer without one, but checks a token that is sent. Errors are the API's JSON
`{code, message}` with the RFC's `WWW-Authenticate` challenge: 401 `missing_token` or
`invalid_token`, 403 `insufficient_scope`, 429 `rate_limited` with Retry-After.
"""

from __future__ import annotations

from starlette.requests import Request

from app.accounts.oauth_tokens import (
    AccessClaims,
    InvalidToken,
    is_revoked,
    token_kid,
    verify_access_token,
)
from app.web import ratelimit
from app.web.api import ApiError
from app.web.ratelimit import Rate, RateLimited, limit_key

__all__ = ["AccessClaims", "optional_scope", "require_scope", "verify_token"]

REALM = "edgecart"


def challenge(error: str | None = None, description: str | None = None,
              scope: str | None = None) -> dict[str, str]:  # fmt: skip
    """A `WWW-Authenticate: Bearer …` header (RFC 6750 §3)."""
    parts = [f'realm="{REALM}"']
    if error is not None:
        parts.append(f'error="{error}"')
    if description is not None:
        parts.append(f'error_description="{description.replace(chr(34), chr(39))}"')
    if scope is not None:
        parts.append(f'scope="{scope}"')
    return {"WWW-Authenticate": "Bearer " + ", ".join(parts)}


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header; None without one (or another scheme)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


async def verify_token(request: Request, token: str) -> AccessClaims:
    """The claims of a token this shop issued and has not revoked; raises InvalidToken."""
    state = request.app.state
    key = await state.signing_keys.public_key(state.sessionmaker, token_kid(token))
    if key is None:
        raise InvalidToken("The access token was not signed by a key of this shop.")
    claims = verify_access_token(token, key, issuer=state.settings.site_url)
    if await is_revoked(state.redis, claims):
        raise InvalidToken("The access token has been revoked.")
    return claims


async def _authorise(request: Request, token: str, scope: str) -> AccessClaims:
    try:
        claims = await verify_token(request, token)
    except InvalidToken as error:
        message = str(error)
        raise ApiError(401, "invalid_token", message, challenge("invalid_token", message)) from None
    settings = request.app.state.settings
    try:
        await ratelimit.hit(
            request.app.state.redis,
            limit_key("api-client", claims.client_id),
            Rate.parse(settings.api_limit_per_client),
        )
    except RateLimited as limited:
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests for this client: retry in {limited.retry_after} s.",
            {"Retry-After": str(limited.retry_after)},
        ) from None
    if not claims.has_scope(scope):
        message = f"This needs a token with the {scope} scope."
        raise ApiError(403, "insufficient_scope", message,
                       challenge("insufficient_scope", message, scope))  # fmt: skip
    return claims


async def require_scope(request: Request, scope: str) -> AccessClaims:
    """The request's access token, valid and holding `scope`; else an ApiError (401/403/429)."""
    token = bearer_token(request)
    if not token:
        raise ApiError(
            401,
            "missing_token",
            "This needs an access token: Authorization: Bearer <token>.",
            challenge(scope=scope),
        )
    return await _authorise(request, token, scope)


async def optional_scope(request: Request, scope: str) -> AccessClaims | None:
    """None without a bearer token; with one, as `require_scope`."""
    token = bearer_token(request)
    if token is None:
        return None
    if not token:
        message = "The access token is empty."
        raise ApiError(401, "invalid_token", message, challenge("invalid_token", message))
    return await _authorise(request, token, scope)
