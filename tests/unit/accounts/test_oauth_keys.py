"""Signing keys: made on first use, encrypted at rest, published, rotated; the metadata."""

from __future__ import annotations

import httpx
import pytest
from joserfc import jws
from sqlalchemy import select

from app.accounts.models import SigningKey
from app.accounts.signing_keys import SigningKeyError, decrypt_private_key
from app.main import create_starlette
from app.settings import Settings
from tests.factories.db import session_for
from tests.factories.oauth import client_credentials_token, make_client, serve
from tests.unit.test_cli import run

pytestmark = pytest.mark.anyio


def _kid(token: str) -> str:
    kid: str = jws.extract_compact(token.encode()).headers()["kid"]
    return kid


async def test_the_jwks_lists_the_key_of_the_token(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, secret = await make_client(database_url)
    token = await client_credentials_token(client, client_id, secret or "")

    response = await client.get("/.well-known/jwks.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    assert response.headers["cache-control"] == "public, max-age=60, s-maxage=60"
    assert "set-cookie" not in response.headers
    [key] = response.json()["keys"]
    assert key["kid"] == _kid(token)
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in key  # never the private part


async def test_private_keys_are_encrypted_at_rest(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await client.get("/.well-known/jwks.json")  # the first key is made on first use

    async with session_for(database_url) as session:
        [row] = (await session.execute(select(SigningKey))).scalars()

    assert "PRIVATE KEY" not in row.private_key
    assert b"PRIVATE KEY" in decrypt_private_key("dev-only-secret-key-change-me", row.kid,
                                                 row.private_key)  # fmt: skip
    with pytest.raises(SigningKeyError, match="SECRET_KEY changed"):
        decrypt_private_key("another secret", row.kid, row.private_key)


async def test_rotation_signs_with_a_new_key_and_the_old_one_keeps_verifying(
    settings: Settings, database_url: str
) -> None:
    client_id, secret = await make_client(database_url)
    app = create_starlette(settings)
    async with serve(app) as client:
        old_token = await client_credentials_token(client, client_id, secret or "")

        done = run("rotate-signing-key", "--algorithm", "RS256", DATABASE_URL=database_url)
        assert done.returncode == 0, done.stderr
        assert "New signing key" in done.stdout
        app.state.signing_keys.forget()  # as each instance does within a minute
        new_token = await client_credentials_token(client, client_id, secret or "")

        assert _kid(new_token) != _kid(old_token)
        assert jws.extract_compact(new_token.encode()).headers()["alg"] == "RS256"
        keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
        assert [key["kid"] for key in keys] == [_kid(new_token), _kid(old_token)]
        for token in (old_token, new_token):
            bearer = {"Authorization": f"Bearer {token}"}
            api = await client.get("/api/v1/categories", headers=bearer)
            assert api.status_code == 200, api.text


async def test_the_metadata_describes_the_server(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")

    assert response.status_code == 200
    body = response.json()
    issuer = "http://127.0.0.1:8000"
    assert body["issuer"] == issuer
    assert body["token_endpoint"] == f"{issuer}/oauth/token"
    assert body["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert body["revocation_endpoint"] == f"{issuer}/oauth/revoke"
    assert body["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["response_types_supported"] == ["code"]
    assert set(body["grant_types_supported"]) == {
        "client_credentials", "authorization_code", "refresh_token",
    }  # fmt: skip
    assert {"catalog:read", "orders:read", "orders:write", "profile"} <= set(
        body["scopes_supported"]
    )
    assert "client_secret_basic" in body["token_endpoint_auth_methods_supported"]
    assert response.headers["cache-control"].startswith("public")
