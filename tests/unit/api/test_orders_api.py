"""Carts and orders through the API, as a channel app runs them: tokens, scopes, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.accounts.oauth_tokens import mint_access_token
from app.accounts.signing_keys import current_signing_key
from app.inventory import service as inventory
from app.inventory.service import Line
from app.settings import Settings
from tests.factories.accounts import make_account
from tests.factories.channel import (
    ADDRESS,
    bearer,
    cart_with,
    channel_token,
    new_key,
    order_body,
    stocked_variant,
)
from tests.factories.db import session_for
from tests.factories.oauth import make_client

pytestmark = pytest.mark.anyio


async def _account_token(settings: Settings, client_id: str, account_id: int) -> str:
    async with session_for(settings.database_url) as session:
        key = await current_signing_key(session, str(settings.secret_key), "ES256")
    return mint_access_token(key, issuer=settings.site_url, client_id=client_id,
                             account_id=account_id, scopes=["orders:read", "orders:write"],
                             lifetime=600)  # fmt: skip


async def _place(
    client: httpx.AsyncClient, token: str, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = bearer(token, **{"Idempotency-Key": key or new_key()})
    return await client.post("/api/v1/orders", json=body, headers=headers)


async def test_a_channel_creates_a_cart_adds_a_line_and_places_an_order(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    variant_id = await stocked_variant(database_url)

    created = await client.post("/api/v1/carts", headers=bearer(token))
    assert created.status_code == 201
    cart = created.json()
    assert cart == {"token": cart["token"], "lines": [], "subtotal_minor": 0,
                    "currency": "EUR", "ready_for_checkout": False,
                    "removed_variant_ids": []}  # fmt: skip
    assert created.headers["cache-control"] == "private, no-store"
    added = await client.post(f"/api/v1/carts/{cart['token']}/lines", headers=bearer(token),
                              json={"variant_id": variant_id, "quantity": 2})  # fmt: skip
    assert added.status_code == 200, added.text
    assert added.json()["subtotal_minor"] == 5000
    assert added.json()["lines"][0]["quantity"] == 2
    seen = await client.get(f"/api/v1/carts/{cart['token']}", headers=bearer(token))
    assert seen.json() == added.json()

    placed = await _place(client, token, order_body(cart["token"]))

    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "pending_payment"
    assert order["lines"][0]["variant_id"] == variant_id
    assert order["total_minor"] == 5000  # free shipping from 50 euros
    assert placed.headers["location"] == f"/api/v1/orders/{order['number']}"
    assert placed.headers["cache-control"] == "private, no-store"
    again = await client.get(placed.headers["location"], headers=bearer(token))
    assert again.json() == order
    listed = await client.get("/api/v1/orders", headers=bearer(token))
    assert [item["number"] for item in listed.json()["items"]] == [order["number"]]
    emptied = await client.get(f"/api/v1/carts/{cart['token']}", headers=bearer(token))
    assert emptied.json()["lines"] == []


async def test_a_replay_with_the_same_key_returns_the_same_order(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    cart_token = await cart_with(client, token, await stocked_variant(database_url))
    headers = bearer(token, **{"Idempotency-Key": new_key()})

    first = await client.post("/api/v1/orders", json=order_body(cart_token), headers=headers)
    second = await client.post("/api/v1/orders", json=order_body(cart_token), headers=headers)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    listed = await client.get("/api/v1/orders", headers=bearer(token))
    assert listed.json()["total"] == 1


async def test_another_client_with_the_same_key_gets_its_own_order_not_the_first(
    client: httpx.AsyncClient, database_url: str
) -> None:
    variant_id = await stocked_variant(database_url)
    first = await channel_token(client, database_url)
    second = await channel_token(client, database_url)
    key = new_key()
    numbers = []
    for token in (first, second):
        cart_token = await cart_with(client, token, variant_id)
        placed = await client.post("/api/v1/orders", json=order_body(cart_token),
                                   headers=bearer(token, **{"Idempotency-Key": key}))  # fmt: skip
        assert placed.status_code == 201, placed.text
        numbers.append(placed.json()["number"])

    assert numbers[0] != numbers[1]
    theirs = await client.get(f"/api/v1/orders/{numbers[0]}", headers=bearer(second))
    assert theirs.status_code == 404


async def test_a_catalog_read_token_is_refused_for_orders_write(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url, scopes=("catalog:read",))

    response = await _place(client, token, order_body("x"))

    assert response.status_code == 403
    assert response.json() == {
        "code": "insufficient_scope",
        "message": "This needs a token with the orders:write scope.",
    }
    assert 'scope="orders:write"' in response.headers["www-authenticate"]


async def test_a_shopper_sees_their_orders_and_not_another_accounts(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    client_id, _ = await make_client(database_url, scopes=("orders:read", "orders:write"),
                                     grants=("authorization_code",),
                                     redirect_uris=("https://app.example/callback",))  # fmt: skip
    ada = await make_account(database_url, "ada@example.com")
    bob = await make_account(database_url, "bob@example.com")
    assert ada.id is not None
    assert bob.id is not None
    ada_token = await _account_token(settings, client_id, ada.id)
    bob_token = await _account_token(settings, client_id, bob.id)
    cart_token = await cart_with(client, ada_token, await stocked_variant(database_url))
    placed = await _place(client, ada_token, order_body(cart_token))
    number = placed.json()["number"]

    mine = await client.get(f"/api/v1/orders/{number}", headers=bearer(ada_token))
    theirs = await client.get(f"/api/v1/orders/{number}", headers=bearer(bob_token))
    bobs_list = await client.get("/api/v1/orders", headers=bearer(bob_token))
    bobs_use_of_adas_cart = await client.get(f"/api/v1/carts/{cart_token}",
                                             headers=bearer(bob_token))  # fmt: skip

    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert theirs.json() == {"code": "not_found", "message": f"No order '{number}'"}
    assert bobs_list.json()["items"] == []
    assert bobs_use_of_adas_cart.status_code == 404


@pytest.mark.parametrize(
    "headers",
    [{}, {"Idempotency-Key": "too-short"}, {"Idempotency-Key": "x" * 65}],
    ids=["missing", "short", "long"],
)
async def test_an_order_without_a_proper_idempotency_key_is_400(
    client: httpx.AsyncClient, database_url: str, headers: dict[str, str]
) -> None:
    token = await channel_token(client, database_url)
    cart_token = await cart_with(client, token, await stocked_variant(database_url))

    response = await client.post("/api/v1/orders", json=order_body(cart_token),
                                 headers=bearer(token, **headers))  # fmt: skip

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"
    assert response.json()["message"].startswith("Idempotency-Key ")


async def test_a_sold_out_variant_is_409_when_added(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    variant_id = await stocked_variant(database_url, on_hand=0)
    cart = (await client.post("/api/v1/carts", headers=bearer(token))).json()

    response = await client.post(f"/api/v1/carts/{cart['token']}/lines", headers=bearer(token),
                                 json={"variant_id": variant_id, "quantity": 1})  # fmt: skip

    assert response.status_code == 409
    assert response.json() == {"code": "sold_out", "message": "Sorry, this is sold out."}


async def test_stock_gone_before_ordering_is_409_naming_the_item_and_orders_nothing(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    variant_id = await stocked_variant(database_url, on_hand=1)
    cart_token = await cart_with(client, token, variant_id)
    async with session_for(database_url) as rival:
        later = datetime.now(UTC) + timedelta(minutes=5)
        await inventory.reserve(rival, "EC-RIVAL", [Line(variant_id, 1)], later)

    response = await _place(client, token, order_body(cart_token))

    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert "Linen Shirt (Option 1)" in response.json()["message"]
    assert (await client.get("/api/v1/orders", headers=bearer(token))).json()["total"] == 0


async def test_a_parcel_is_priced_by_weight_and_refused_when_too_heavy(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    light = await cart_with(client, token, await stocked_variant(database_url, weight_grams=300), 2)
    heavy = await cart_with(
        client, token, await stocked_variant(database_url, weight_grams=16_000), 2
    )

    placed = await _place(client, token, order_body(light, shipping_method="parcel"))
    refused = await _place(client, token, order_body(heavy, shipping_method="parcel"))

    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["shipping_method"], order["shipping_minor"]) == ("parcel", 390)  # 600 g
    assert order["lines"][0]["unit_weight_grams"] == 300
    assert refused.status_code == 409
    assert refused.json() == {
        "code": "shipping_unavailable",
        "message": "Parcel by weight takes parcels up to 31.5 kg; your order weighs 32 kg.",
    }
    assert (await client.get("/api/v1/orders", headers=bearer(token))).json()["total"] == 1


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"shipping_method": "teleport"}, 422, "invalid_field"),
        ({"email": "not-an-address"}, 422, "invalid_field"),
        ({"shipping_address": {**ADDRESS, "postal_code": "ABC"}}, 422, "invalid_field"),
        ({"cart_token": "no-such-cart"}, 404, "not_found"),
    ],
    ids=["method", "email", "postal-code", "unknown-cart"],
)
async def test_a_bad_order_body_is_refused_with_its_field(
    client: httpx.AsyncClient, database_url: str, change: dict[str, Any], status: int, code: str
) -> None:
    token = await channel_token(client, database_url)
    cart_token = await cart_with(client, token, await stocked_variant(database_url))

    response = await _place(client, token, order_body(cart_token) | change)

    assert (response.status_code, response.json()["code"]) == (status, code)


async def test_a_body_that_is_not_a_json_object_is_400(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    cart = (await client.post("/api/v1/carts", headers=bearer(token))).json()

    response = await client.post(f"/api/v1/carts/{cart['token']}/lines", content=b"[1, 2",
                                 headers=bearer(token))  # fmt: skip

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
