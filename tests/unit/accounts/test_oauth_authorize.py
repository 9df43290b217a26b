"""The authorization code flow with PKCE, as a mobile app and a shopper run it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.factories.accounts import make_account
from tests.factories.oauth import (
    REDIRECT_URI,
    answer,
    approve,
    authorization_code_tokens,
    authorize_params,
    make_app_client,
    pkce,
)
from tests.unit.accounts.conftest import sign_in

pytestmark = pytest.mark.anyio


async def _signed_in(client: httpx.AsyncClient, database_url: str) -> int:
    account = await make_account(database_url, "ada@example.com", full_name="Ada Lovelace")
    assert (await sign_in(client, "ada@example.com")).status_code == 303
    assert account.id is not None
    return account.id


async def _exchange(client: httpx.AsyncClient, client_id: str, code: str, verifier: str,
                    redirect_uri: str = REDIRECT_URI) -> httpx.Response:  # fmt: skip
    return await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
              "code_verifier": verifier, "client_id": client_id},
    )  # fmt: skip


async def test_sign_in_consent_code_token_and_me(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, _ = await make_app_client(database_url)
    _, challenge = pkce()
    params = authorize_params(client_id, challenge)

    # Not signed in: to the sign-in page, and back here afterwards.
    first = await client.get("/oauth/authorize", params=params)
    assert first.status_code == 303
    next_path = parse_qs(urlsplit(first.headers["location"]).query)["next"][0]
    assert next_path.startswith("/oauth/authorize?")
    assert parse_qs(urlsplit(next_path).query)["code_challenge"] == [challenge]
    await make_account(database_url, "ada@example.com", full_name="Ada Lovelace")
    signed_in = await client.post(
        "/account/login",
        data={"email": "ada@example.com", "password": "correct horse battery", "next": next_path},
    )
    assert signed_in.headers["location"] == next_path

    page = await client.get(next_path)
    assert page.status_code == 200
    assert 'data-testid="oauth-client">Shop App<' in page.text
    assert page.text.count('data-testid="oauth-scope"') == 2
    assert 'data-testid="oauth-approve"' in page.text
    assert 'data-testid="oauth-deny"' in page.text
    assert page.headers["cache-control"] == "private, no-store"
    assert "form-action 'self' https://app.example;" in page.headers["content-security-policy"]

    tokens = await authorization_code_tokens(client, client_id)
    assert set(tokens) == {"access_token", "token_type", "expires_in", "scope", "refresh_token"}
    assert tokens["scope"] == "catalog:read profile"
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "ada@example.com"
    assert me.json()["name"] == "Ada Lovelace"
    assert me.headers["cache-control"] == "private, no-store"


async def test_the_answer_carries_state_and_issuer(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, _ = await make_app_client(database_url)
    await _signed_in(client, database_url)
    _, challenge = pkce()

    got = answer(await approve(client, authorize_params(client_id, challenge)))

    assert got["state"] == "xyz-state"
    assert got["iss"] == "http://127.0.0.1:8000"
    assert len(got["code"]) >= 40


async def test_deny_sends_access_denied_back(client: httpx.AsyncClient, database_url: str) -> None:
    client_id, _ = await make_app_client(database_url)
    await _signed_in(client, database_url)
    _, challenge = pkce()

    got = answer(await approve(client, authorize_params(client_id, challenge), decision="deny"))

    assert got["error"] == "access_denied"
    assert got["state"] == "xyz-state"
    assert "code" not in got


async def test_approving_needs_the_session_csrf_token(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, _ = await make_app_client(database_url)
    await _signed_in(client, database_url)
    _, challenge = pkce()

    response = await client.post(
        "/oauth/authorize",
        data=authorize_params(client_id, challenge) | {"decision": "approve", "csrf_token": "x"},
    )

    assert response.status_code == 403
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"client_id": "nobody"}, "not registered", id="unknown client"),
        pytest.param({"redirect_uri": "https://evil.example/cb"}, "has not registered",
                     id="unregistered redirect URI"),
        pytest.param({"redirect_uri": REDIRECT_URI + "/more"}, "has not registered",
                     id="a longer redirect URI"),
    ],
)  # fmt: skip
async def test_a_bad_client_or_redirect_uri_is_an_error_page_never_a_redirect(
    client: httpx.AsyncClient, database_url: str, change: dict[str, str], message: str
) -> None:
    client_id, _ = await make_app_client(database_url)
    await _signed_in(client, database_url)
    _, challenge = pkce()

    params = authorize_params(client_id, challenge) | change
    response = await client.get("/oauth/authorize", params=params)

    assert response.status_code == 400
    assert "location" not in response.headers
    assert message in response.text


@pytest.mark.parametrize(
    ("change", "error"),
    [
        pytest.param({"code_challenge_method": "plain"}, "invalid_request", id="plain PKCE"),
        pytest.param({"code_challenge": ""}, "invalid_request", id="no PKCE"),
        pytest.param({"response_type": "token"}, "unsupported_response_type", id="implicit"),
        pytest.param({"scope": "orders:write"}, "invalid_scope", id="a scope not allowed"),
    ],
)
async def test_other_faults_go_back_to_the_app_as_errors(
    client: httpx.AsyncClient, database_url: str, change: dict[str, str], error: str
) -> None:
    client_id, _ = await make_app_client(database_url)
    _, challenge = pkce()

    response = await client.get(
        "/oauth/authorize", params=authorize_params(client_id, challenge, **change)
    )

    got = answer(response)
    assert got["error"] == error
    assert got["state"] == "xyz-state"


async def test_a_wrong_code_verifier_is_invalid_grant(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, _ = await make_app_client(database_url)
    await _signed_in(client, database_url)
    _, challenge = pkce()
    code = answer(await approve(client, authorize_params(client_id, challenge)))["code"]
    other_verifier, _ = pkce()

    response = await _exchange(client, client_id, code, other_verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "code_verifier" in response.json()["error_description"]


async def test_a_code_works_once_and_its_replay_revokes_the_grant(
    client: httpx.AsyncClient, database_url: str
) -> None:
    client_id, _ = await make_app_client(database_url)
    await _signed_in(client, database_url)
    verifier, challenge = pkce()
    code = answer(await approve(client, authorize_params(client_id, challenge)))["code"]

    first = await _exchange(client, client_id, code, verifier)
    replay = await _exchange(client, client_id, code, verifier)

    assert first.status_code == 200
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    refresh = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"],
              "client_id": client_id},
    )  # fmt: skip
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"


async def test_the_redirect_uri_must_match_the_authorization_request(
    client: httpx.AsyncClient, database_url: str
) -> None:
    other = "https://app.example/other"
    client_id, _ = await make_app_client(database_url, redirect_uris=(REDIRECT_URI, other))
    await _signed_in(client, database_url)
    verifier, challenge = pkce()
    code = answer(await approve(client, authorize_params(client_id, challenge)))["code"]

    response = await _exchange(client, client_id, code, verifier, redirect_uri=other)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "redirect_uri" in response.json()["error_description"]


async def test_a_code_is_bound_to_its_client(client: httpx.AsyncClient, database_url: str) -> None:
    client_id, _ = await make_app_client(database_url)
    thief_id, _ = await make_app_client(database_url, name="Other App")
    await _signed_in(client, database_url)
    verifier, challenge = pkce()
    code = answer(await approve(client, authorize_params(client_id, challenge)))["code"]

    response = await _exchange(client, thief_id, code, verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
