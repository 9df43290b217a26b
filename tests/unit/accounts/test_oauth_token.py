"""POST /oauth/token with client credentials, and the RFC 6749 §5.2 errors."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from tests.factories.db import session_for
from tests.factories.oauth import basic, make_client

pytestmark = pytest.mark.anyio


async def test_a_client_credentials_token_reads_the_catalog(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, secret = await make_client(database_url, scopes=("catalog:read", "orders:read"))
    assert secret is not None

    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "catalog:read"},
        headers=basic(client_id, secret),
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}  # no refresh token
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        600,
        "catalog:read",
    )
    api = await client.get(
        "/api/v1/products", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert api.status_code == 200
    assert api.json()["total"] > 0
    assert api.headers["cache-control"].startswith("public, ")


async def test_the_secret_may_come_in_the_form_and_no_scope_means_all_allowed(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, secret = await make_client(database_url, scopes=("catalog:read", "orders:read"))

    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )

    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "catalog:read orders:read"


@pytest.mark.parametrize(
    "how",
    [
        pytest.param("wrong-secret", id="wrong secret"),
        pytest.param("unknown-client", id="unknown client"),
        pytest.param("no-auth", id="no client authentication"),
        pytest.param("not-basic", id="another scheme"),
    ],
)
async def test_a_client_that_fails_to_authenticate_gets_401_invalid_client(
    client: httpx.AsyncClient, database_url: str, how: str
) -> None:
    client_id, secret = await make_client(database_url)
    headers = {
        "wrong-secret": basic(client_id, "not-the-secret"),
        "unknown-client": basic("nobody", secret or ""),
        "no-auth": {},
        "not-basic": {"Authorization": f"Bearer {secret}"},
    }[how]

    response = await client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers=headers
    )

    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
    }
    assert response.headers["www-authenticate"] == 'Basic realm="edgecart"'
    assert response.headers["cache-control"] == "no-store"


async def test_a_scope_the_client_may_not_have_is_invalid_scope(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, secret = await make_client(database_url, scopes=("catalog:read",))

    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "catalog:read orders:write"},
        headers=basic(client_id, secret or ""),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "orders:write" in response.json()["error_description"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        pytest.param({"grant_type": "password"}, "unsupported_grant_type", id="password grant"),
        pytest.param({}, "invalid_request", id="no grant type"),
        pytest.param({"grant_type": "authorization_code"}, "unauthorized_client",
                     id="a grant the client is not registered for"),
        pytest.param({"grant_type": "client_credentials", "scope": "profile"}, "invalid_scope",
                     id="a person's scope without a person"),
    ],
)  # fmt: skip
async def test_requests_the_client_may_not_make_get_400(
    client: httpx.AsyncClient, database_url: str, data: dict[str, str], error: str
) -> None:
    client_id, secret = await make_client(database_url)

    response = await client.post("/oauth/token", data=data, headers=basic(client_id, secret or ""))

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert set(response.json()) == {"error", "error_description"}


async def test_a_repeated_parameter_and_two_ways_of_authenticating_are_invalid_request(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, secret = await make_client(database_url)

    repeated = await client.post(
        "/oauth/token",
        content="grant_type=client_credentials&scope=catalog:read&scope=catalog:read",
        headers={"Content-Type": "application/x-www-form-urlencoded"}
        | basic(client_id, secret or ""),
    )
    both = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_secret": secret},
        headers=basic(client_id, secret or ""),
    )

    assert repeated.status_code == both.status_code == 400
    assert repeated.json()["error"] == both.json()["error"] == "invalid_request"


async def test_a_disabled_client_is_refused(client: httpx.AsyncClient, database_url: str) -> None:
    client_id, secret = await make_client(database_url)
    async with session_for(database_url) as session:
        await session.execute(
            text("UPDATE oauth_client SET disabled = true WHERE client_id = :id"), {"id": client_id}
        )

    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic(client_id, secret or ""),
    )

    assert response.status_code == 401
