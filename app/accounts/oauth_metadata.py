"""What the authorization server publishes: its public keys (/.well-known/jwks.json, RFC 7517)
and its metadata (/.well-known/oauth-authorization-server, RFC 8414). Both are the same for
everyone and cached briefly, at the edge too, so a rotated key is visible within a minute."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.accounts import signing_keys
from app.accounts.oauth_scopes import AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN, SCOPES
from app.db import transaction

BRIEFLY = 60  # seconds; the KeyCache of every instance refreshes as often
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def _cache_briefly(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={BRIEFLY}, s-maxage={BRIEFLY}"
    return response


def metadata(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": f"{issuer}/api/v1/docs",
    }


async def authorization_server(request: Request) -> Response:
    return _cache_briefly(JSONResponse(metadata(request.app.state.settings.site_url)))


async def jwks(request: Request) -> Response:
    state = request.app.state
    # Never an empty set: the first key is made here if no token was issued yet.
    await state.signing_keys.signing_key(state.sessionmaker)
    async with transaction(state.sessionmaker) as db:
        keys = await signing_keys.verification_keys(db, state.settings.oauth_access_token_seconds)
    response = JSONResponse(signing_keys.jwks(keys), media_type="application/jwk-set+json")
    return _cache_briefly(response)


routes = [
    Route("/.well-known/jwks.json", jwks, name="oauth_jwks"),
    Route(
        "/.well-known/oauth-authorization-server",
        authorization_server,
        name="oauth_authorization_server",
    ),
]
