"""The API as a resource server: bearer tokens checked, scopes enforced, clients rate-limited."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from joserfc.jwk import ECKey
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.accounts.oauth_tokens import mint_access_token
from app.accounts.signing_keys import PrivateKey, current_signing_key
from app.main import create_starlette
from app.settings import Settings
from app.web.bearer import require_scope
from tests.factories.accounts import make_account
from tests.factories.db import session_for
from tests.factories.oauth import client_credentials_token, make_client, serve

pytestmark = pytest.mark.anyio

ISSUER = "http://127.0.0.1:8000"


async def place_order(request: Request) -> Response:
    """What a later issue's order endpoint will do first."""
    claims = await require_scope(request, "orders:write")
    return JSONResponse({"client_id": claims.client_id})


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with an orders:write endpoint added for this test, and a small rate limit."""
    app = create_starlette(replace(settings, api_limit_per_client="5/60"))
    app.router.routes.append(Route("/api/v1/test-orders", place_order, methods=["POST"]))
    async with serve(app) as client:
        yield client


async def _signing_key(database_url: str, settings: Settings) -> PrivateKey:
    async with session_for(database_url) as session:
        return await current_signing_key(session, str(settings.secret_key), "ES256")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_without_orders_write_is_refused_with_insufficient_scope(
    api: httpx.AsyncClient, database_url: str
) -> None:
    client_id, secret = await make_client(database_url, scopes=("catalog:read", "orders:read"))
    token = await client_credentials_token(api, client_id, secret or "")

    response = await api.post("/api/v1/test-orders", headers=_bearer(token))

    assert response.status_code == 403
    assert response.json() == {
        "code": "insufficient_scope",
        "message": "This needs a token with the orders:write scope.",
    }
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="edgecart", error="insufficient_scope"')
    assert 'scope="orders:write"' in challenge


async def test_a_token_with_orders_write_passes(api: httpx.AsyncClient, database_url: str) -> None:
    client_id, secret = await make_client(database_url, scopes=("orders:write",))
    token = await client_credentials_token(api, client_id, secret or "")

    response = await api.post("/api/v1/test-orders", headers=_bearer(token))

    assert response.status_code == 200
    assert response.json() == {"client_id": client_id}


async def test_no_token_is_401_with_a_bare_challenge(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/test-orders")

    assert response.status_code == 401
    assert response.json()["code"] == "missing_token"
    assert response.headers["www-authenticate"] == 'Bearer realm="edgecart", scope="orders:write"'
    assert response.headers["cache-control"] == "private, no-store"


async def test_an_expired_token_is_refused(
    api: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    key = await _signing_key(database_url, settings)
    token = mint_access_token(key, issuer=ISSUER, client_id="partner", account_id=None,
                              scopes=["catalog:read"], lifetime=600,
                              now=int(time.time()) - 3600)  # fmt: skip

    response = await api.get("/api/v1/products", headers=_bearer(token))

    assert response.status_code == 401
    assert response.json() == {"code": "invalid_token", "message": "The access token has expired."}
    assert response.headers["www-authenticate"] == (
        'Bearer realm="edgecart", error="invalid_token", '
        'error_description="The access token has expired."'
    )


async def test_a_token_signed_by_a_foreign_key_with_our_kid_is_refused(
    api: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    ours = await _signing_key(database_url, settings)
    forged = PrivateKey(ours.kid, "ES256", ECKey.generate_key("P-256", private=True))
    token = mint_access_token(forged, issuer=ISSUER, client_id="partner", account_id=None,
                              scopes=["catalog:read"], lifetime=600)  # fmt: skip

    response = await api.get("/api/v1/products", headers=_bearer(token))

    assert response.status_code == 401
    assert response.json()["message"] == "The access token's signature is not valid."


async def test_a_token_naming_an_unknown_key_is_refused(api: httpx.AsyncClient) -> None:
    forged = PrivateKey("not-our-kid", "ES256", ECKey.generate_key("P-256", private=True))
    token = mint_access_token(forged, issuer=ISSUER, client_id="partner", account_id=None,
                              scopes=["catalog:read"], lifetime=600)  # fmt: skip

    response = await api.get("/api/v1/categories", headers=_bearer(token))

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_an_unsigned_alg_none_token_is_refused(
    api: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    key = await _signing_key(database_url, settings)
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": ISSUER + "/api", "sub": "client:partner",
              "client_id": "partner", "scope": "catalog:read orders:write", "iat": now,
              "exp": now + 600, "jti": "j1"}  # fmt: skip
    header = {"alg": "none", "kid": key.kid, "typ": "at+jwt"}
    token = f"{_b64(header)}.{_b64(claims)}."

    response = await api.post("/api/v1/test-orders", headers=_bearer(token))

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


@pytest.mark.parametrize(
    "issuer",
    [pytest.param("https://elsewhere.example", id="another issuer (and audience)")],
)
async def test_a_token_for_another_issuer_is_refused(
    api: httpx.AsyncClient, database_url: str, settings: Settings, issuer: str
) -> None:
    key = await _signing_key(database_url, settings)
    token = mint_access_token(key, issuer=issuer, client_id="partner", account_id=None,
                              scopes=["catalog:read"], lifetime=600)  # fmt: skip

    response = await api.get("/api/v1/categories", headers=_bearer(token))

    assert response.status_code == 401


@pytest.mark.parametrize("token", ["garbage", "a.b.c", ""], ids=["one word", "three parts",
                                                                   "empty"])  # fmt: skip
async def test_malformed_tokens_on_the_catalog_are_401(api: httpx.AsyncClient, token: str) -> None:
    response = await api.get("/api/v1/products", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_the_catalog_stays_public_and_cacheable_without_a_token(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get("/api/v1/products/1")

    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert "surrogate-key" in response.headers
    assert "set-cookie" not in response.headers


async def test_a_token_without_catalog_read_is_refused_by_the_catalog(
    api: httpx.AsyncClient, database_url: str
) -> None:
    client_id, secret = await make_client(database_url, scopes=("orders:read",))
    token = await client_credentials_token(api, client_id, secret or "")

    response = await api.get("/api/v1/search?q=shirt", headers=_bearer(token))

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


async def test_each_client_is_rate_limited_on_its_own(
    api: httpx.AsyncClient, database_url: str
) -> None:
    busy_id, busy_secret = await make_client(database_url)
    calm_id, calm_secret = await make_client(database_url, name="Calm Partner")
    busy = _bearer(await client_credentials_token(api, busy_id, busy_secret or ""))
    calm = _bearer(await client_credentials_token(api, calm_id, calm_secret or ""))

    answers = [(await api.get("/api/v1/categories", headers=busy)).status_code for _ in range(6)]

    assert answers == [200] * 5 + [429]
    limited = await api.get("/api/v1/categories", headers=busy)
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["cache-control"] == "private, no-store"
    assert (await api.get("/api/v1/categories", headers=calm)).status_code == 200
    assert (await api.get("/api/v1/categories")).status_code == 200  # anonymous: the edge's


async def test_me_refuses_a_client_credentials_token(
    api: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")
    client_id, secret = await make_client(database_url, scopes=("catalog:read",))
    token = await client_credentials_token(api, client_id, secret or "")

    response = await api.get("/api/v1/me", headers=_bearer(token))

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
