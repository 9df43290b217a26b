"""OAuth clients for tests, and the client side of the flows as a registered app runs them."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from starlette.applications import Starlette

from app.accounts.oauth_clients import register_client
from app.accounts.oauth_codes import s256
from tests.factories.db import session_for

REDIRECT_URI = "https://app.example/callback"
_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


async def make_client(
    database_url: str,
    *,
    grants: tuple[str, ...] = ("client_credentials",),
    scopes: tuple[str, ...] = ("catalog:read",),
    redirect_uris: tuple[str, ...] = (),
    public: bool = False,
    name: str = "Partner Channel",
) -> tuple[str, str | None]:
    """A registered client: (client_id, secret)."""
    async with session_for(database_url) as session:
        client, secret = await register_client(
            session, name, list(grants), list(scopes), list(redirect_uris), public=public
        )
        return client.client_id, secret


async def make_app_client(database_url: str, **extra: Any) -> tuple[str, str | None]:
    """A mobile app: authorization code, public by default, catalog:read and profile."""
    options: dict[str, Any] = {
        "grants": ("authorization_code",),
        "scopes": ("catalog:read", "profile"),
        "redirect_uris": (REDIRECT_URI,),
        "public": True,
        "name": "Shop App",
    }
    return await make_client(database_url, **(options | extra))


def basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def pkce() -> tuple[str, str]:
    """(code_verifier, code_challenge) for S256."""
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


async def client_credentials_token(
    client: httpx.AsyncClient, client_id: str, secret: str, scope: str | None = None
) -> str:
    data = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
    response = await client.post("/oauth/token", data=data, headers=basic(client_id, secret))
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def authorize_params(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "catalog:read profile",
        "state": "xyz-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    } | extra


async def approve(client: httpx.AsyncClient, params: dict[str, str], decision: str = "approve"
                  ) -> httpx.Response:  # fmt: skip
    """Open the consent page as the signed-in shopper and press Allow (or Deny)."""
    page = await client.get("/oauth/authorize", params=params)
    assert page.status_code == 200, page.text
    found = _TOKEN.search(page.text)
    assert found, "no CSRF token on the consent page"
    form = params | {"csrf_token": found.group(1), "decision": decision}
    return await client.post("/oauth/authorize", data=form)


def answer(response: httpx.Response) -> dict[str, str]:
    """The query parameters of a redirect back to the app."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


async def authorization_code_tokens(
    client: httpx.AsyncClient, client_id: str, **extra: str
) -> dict[str, Any]:
    """The whole flow for a signed-in shopper: consent, code, token response."""
    verifier, challenge = pkce()
    code = answer(await approve(client, authorize_params(client_id, challenge, **extra)))["code"]
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
              "code_verifier": verifier, "client_id": client_id},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@asynccontextmanager
async def serve(starlette: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client for an app the test built itself (to reach its state or add a route)."""
    transport = httpx.ASGITransport(app=starlette)
    async with (
        starlette.router.lifespan_context(starlette),
        httpx.AsyncClient(
            transport=transport, base_url="http://shop.test", headers={"Origin": "http://shop.test"}
        ) as http,
    ):
        yield http
