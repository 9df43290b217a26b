"""A channel app's side of the carts and orders API: tokens, carts with lines, order bodies."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.factories.catalog import make_product
from tests.factories.db import session_for
from tests.factories.oauth import client_credentials_token, make_client

ADDRESS = {"full_name": "Ada Lovelace", "line1": "Hauptstr. 1", "postal_code": "10115",
           "city": "Berlin", "country": "DE"}  # fmt: skip
BOTH = ("orders:read", "orders:write")


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def new_key() -> str:
    """A fresh Idempotency-Key."""
    return secrets.token_urlsafe(24)


def order_body(cart_token: str, **extra: Any) -> dict[str, Any]:
    return {"cart_token": cart_token, "email": "ada@example.com", "shipping_address": ADDRESS,
            "shipping_method": "standard"} | extra  # fmt: skip


async def channel_token(
    client: httpx.AsyncClient, database_url: str, scopes: tuple[str, ...] = BOTH
) -> str:
    """A client-credentials token of a newly registered channel app."""
    client_id, secret = await make_client(database_url, scopes=scopes)
    return await client_credentials_token(client, client_id, secret or "")


async def stocked_variant(
    database_url: str, on_hand: int = 5, price_minor: int = 2500, weight_grams: int = 400
) -> int:
    """A variant of a new product "Linen Shirt" with `on_hand` units in stock."""
    async with session_for(database_url) as session:
        made = await make_product(session, title="Linen Shirt", stock=(on_hand,),
                                  price_minor=price_minor, weight_grams=weight_grams)  # fmt: skip
    return made.variant_ids[0]


async def cart_with(
    client: httpx.AsyncClient, token: str, variant_id: int, quantity: int = 1
) -> str:
    """A new cart of the token's client holding `quantity` units of the variant; its token."""
    created = await client.post("/api/v1/carts", headers=bearer(token))
    assert created.status_code == 201, created.text
    cart_token: str = created.json()["token"]
    added = await client.post(f"/api/v1/carts/{cart_token}/lines", headers=bearer(token),
                              json={"variant_id": variant_id, "quantity": quantity})  # fmt: skip
    assert added.status_code == 200, added.text
    return cart_token
