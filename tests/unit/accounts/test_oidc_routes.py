"""The "Continue with Demo ID" pages, in-process, against the real local OpenID provider."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import pytest

from app.devstack.oidc import LocalOidcProvider
from app.web.sessions import COOKIE
from tests.factories.accounts import PASSWORD, make_account
from tests.unit.accounts.conftest import authorize_at_provider, sign_in

pytestmark = pytest.mark.anyio

CALLBACK = "/account/oidc/demo/callback"


async def start(client: httpx.AsyncClient, next_path: str = "") -> str:
    response = await client.get("/account/oidc/demo/start", params={"next": next_path})
    assert response.status_code == 303
    assert response.headers["cache-control"] == "private, no-store"
    return response.headers["location"]


async def test_the_login_page_offers_continue_with(oidc_client: httpx.AsyncClient) -> None:
    page = await oidc_client.get("/account/login?next=/account/addresses")

    assert 'data-testid="oidc-demo"' in page.text
    assert "Continue with Demo ID" in page.text
    assert "/account/oidc/demo/start?next=/account/addresses" in page.text


async def test_the_authorization_request_carries_state_nonce_and_pkce(
    oidc_client: httpx.AsyncClient, oidc_provider: LocalOidcProvider
) -> None:
    location = httpx.URL(await start(oidc_client))

    assert str(location).startswith(f"{oidc_provider.issuer}/auth?")
    params = location.params
    assert params["response_type"] == "code"
    assert params["redirect_uri"] == f"http://shop.test{CALLBACK}"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32
    assert len(params["nonce"]) >= 32
    assert "code_verifier" not in params


async def test_signing_in_makes_an_account_and_rotates_the_session(
    oidc_client: httpx.AsyncClient,
) -> None:
    location = await start(oidc_client, "/account/addresses")
    before = oidc_client.cookies[COOKIE]

    returned = await authorize_at_provider(location, "Nia@Example.com", name="Nia Okafor")
    response = await oidc_client.get(CALLBACK, params=returned)

    assert response.status_code == 303
    assert response.headers["location"] == "/account/addresses"
    assert oidc_client.cookies[COOKIE] != before
    account = await oidc_client.get("/account")
    assert 'data-testid="account-email">nia@example.com<' in account.text
    assert "Hello, Nia Okafor" in account.text


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda q: {**q, "state": q["state"][:-2] + "xx"}, id="changed-state"),
        pytest.param(lambda q: {k: v for k, v in q.items() if k != "state"}, id="no-state"),
    ],
)
async def test_a_tampered_state_signs_nobody_in(
    oidc_client: httpx.AsyncClient, tamper: Callable[[dict[str, str]], dict[str, str]]
) -> None:
    returned = await authorize_at_provider(await start(oidc_client), "mallory@example.com")

    response = await oidc_client.get(f"{CALLBACK}?{urlencode(tamper(returned))}")

    assert response.status_code == 400
    assert "its state does not match" in response.text
    assert "Traceback" not in response.text
    assert 'data-testid="oidc-retry"' in response.text
    assert "Hello," not in (await oidc_client.get("/account")).text
    # The genuine answer is no good after that: each sign-in gets one try.
    again = await oidc_client.get(CALLBACK, params=returned)
    assert again.status_code == 400
    assert "expired or was already used" in again.text


async def test_a_callback_without_a_started_sign_in_is_refused(
    oidc_client: httpx.AsyncClient,
) -> None:
    response = await oidc_client.get(CALLBACK, params={"code": "stolen", "state": "guessed"})

    assert response.status_code == 400
    assert "set-cookie" not in response.headers


async def test_cancelling_at_the_provider_is_explained(oidc_client: httpx.AsyncClient) -> None:
    returned = await authorize_at_provider(await start(oidc_client), "ada@example.com", cancel=True)

    response = await oidc_client.get(CALLBACK, params=returned)

    assert returned["error"] == "access_denied"
    assert response.status_code == 400
    assert "Signing in with Demo ID was cancelled" in response.text


async def test_a_password_account_is_linked_by_a_verified_address(
    oidc_client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com", full_name="Ada Lovelace")

    returned = await authorize_at_provider(await start(oidc_client), "ada@example.com")
    response = await oidc_client.get(CALLBACK, params=returned)

    assert response.status_code == 303
    exported = (await oidc_client.get("/account/export")).json()
    assert exported["account"]["full_name"] == "Ada Lovelace"
    assert exported["account"]["email_verified"] is True
    assert [p["provider"] for p in exported["sign_in_providers"]] == ["demo"]


async def test_an_unverified_address_does_not_take_over_an_account(
    oidc_client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")

    returned = await authorize_at_provider(
        await start(oidc_client), "ada@example.com", verified=False
    )
    response = await oidc_client.get(CALLBACK, params=returned)

    assert response.status_code == 400
    assert "Please sign in with your password first" in response.text
    assert "Hello," not in (await oidc_client.get("/account")).text


async def test_staff_do_not_sign_in_through_the_provider(
    oidc_client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "owner@example.com", role="owner")

    returned = await authorize_at_provider(await start(oidc_client), "owner@example.com")
    response = await oidc_client.get(CALLBACK, params=returned)

    assert response.status_code == 403
    assert "signs in with its password and security code" in response.text
    # The password still works, and the staff member is signed in the usual way.
    assert (await sign_in(oidc_client, "owner@example.com", PASSWORD)).status_code == 303


async def test_an_unknown_provider_is_not_found(oidc_client: httpx.AsyncClient) -> None:
    assert (await oidc_client.get("/account/oidc/elsewhere/start")).status_code == 404


async def test_without_settings_there_is_no_button(client: httpx.AsyncClient) -> None:
    page = await client.get("/account/login")

    assert "Continue with" not in page.text
    assert (await client.get("/account/oidc/demo/start")).status_code == 404
