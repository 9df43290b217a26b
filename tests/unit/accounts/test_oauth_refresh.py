"""Refresh tokens: rotation, reuse detection, narrowing, and revocation (RFC 7009)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories.accounts import make_account
from tests.factories.oauth import (
    authorization_code_tokens,
    basic,
    client_credentials_token,
    make_app_client,
    make_client,
)
from tests.unit.accounts.conftest import sign_in

pytestmark = pytest.mark.anyio


async def _tokens(client: httpx.AsyncClient, database_url: str) -> tuple[str, dict[str, Any]]:
    client_id, _ = await make_app_client(database_url)
    await make_account(database_url, "ada@example.com")
    await sign_in(client, "ada@example.com")
    return client_id, await authorization_code_tokens(client, client_id)


async def _refresh(client: httpx.AsyncClient, client_id: str, token: str,
                   **extra: str) -> httpx.Response:  # fmt: skip
    data = {"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id}
    return await client.post("/oauth/token", data=data | extra)


async def _me(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})


async def test_a_refresh_token_is_swapped_for_a_new_one(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, first = await _tokens(client, database_url)

    second = await _refresh(client, client_id, first["refresh_token"])

    assert second.status_code == 200, second.text
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    assert body["scope"] == "catalog:read profile"
    assert (await _me(client, body["access_token"])).status_code == 200
    third = await _refresh(client, client_id, body["refresh_token"])
    assert third.status_code == 200


async def test_a_reused_refresh_token_revokes_its_whole_family(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, first = await _tokens(client, database_url)
    rotated = (await _refresh(client, client_id, first["refresh_token"])).json()

    reused = await _refresh(client, client_id, first["refresh_token"])  # a stolen copy

    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert "already used" in reused.json()["error_description"]
    # The legitimate holder's newer token is gone too: the family is revoked.
    after = await _refresh(client, client_id, rotated["refresh_token"])
    assert after.status_code == 400
    assert after.json()["error"] == "invalid_grant"


async def test_a_refresh_may_narrow_the_scope_but_never_widen_it(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, first = await _tokens(client, database_url)

    wider = await _refresh(client, client_id, first["refresh_token"], scope="orders:read")
    narrower = await _refresh(client, client_id, first["refresh_token"], scope="catalog:read")

    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"
    assert narrower.status_code == 200  # the refused attempt did not spend the token
    assert narrower.json()["scope"] == "catalog:read"
    assert (await _me(client, narrower.json()["access_token"])).status_code == 403


async def test_another_clients_refresh_token_is_invalid_grant(
    client: httpx.AsyncClient, database_url: str
) -> None:
    _, first = await _tokens(client, database_url)
    other_id, _ = await make_app_client(database_url, name="Other App")

    response = await _refresh(client, other_id, first["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_revoking_a_refresh_token_ends_the_grant(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, first = await _tokens(client, database_url)

    revoked = await client.post(
        "/oauth/revoke",
        data={"token": first["refresh_token"], "token_type_hint": "refresh_token",
              "client_id": client_id},
    )  # fmt: skip

    assert revoked.status_code == 200
    assert revoked.headers["cache-control"] == "no-store"
    refused = await _refresh(client, client_id, first["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


async def test_revoking_an_access_token_refuses_it_at_once(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, secret = await make_client(database_url)
    token = await client_credentials_token(client, client_id, secret or "")
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/categories", headers=bearer)).status_code == 200

    revoked = await client.post(
        "/oauth/revoke", data={"token": token}, headers=basic(client_id, secret or "")
    )

    assert revoked.status_code == 200
    refused = await client.get("/api/v1/categories", headers=bearer)
    assert refused.status_code == 401
    assert refused.json() == {
        "code": "invalid_token",
        "message": "The access token has been revoked.",
    }


async def test_revocation_answers_200_for_unknown_tokens_but_needs_a_client(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, secret = await make_client(database_url)

    unknown = await client.post(
        "/oauth/revoke", data={"token": "no-such-token"}, headers=basic(client_id, secret or "")
    )
    anonymous = await client.post("/oauth/revoke", data={"token": "no-such-token"})

    assert unknown.status_code == 200
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"


async def test_changing_the_password_signs_apps_out(
    client: httpx.AsyncClient, database_url: str
) -> None:
    from tests.unit.accounts.conftest import csrf_token

    client_id, first = await _tokens(client, database_url)
    changed = await client.post(
        "/account/password",
        data={"current_password": "correct horse battery", "new_password": "a brand new password",
              "csrf_token": await csrf_token(client, "/account/password")},
    )  # fmt: skip
    assert changed.status_code == 303

    refused = await _refresh(client, client_id, first["refresh_token"])

    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
