"""Vouchers on orders placed through the API: the checkout's rules, one error code per reason."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.orders import service as orders
from tests.factories.channel import (
    bearer,
    cart_with,
    channel_token,
    new_key,
    order_body,
    stocked_variant,
)
from tests.factories.db import session_for

pytestmark = pytest.mark.anyio

NOW = datetime.now(UTC)


async def _voucher(database_url: str, code: str = "SPRING10", **terms: Any) -> None:
    terms = {"kind": "percent", "amount": 10} | terms
    async with session_for(database_url) as session:
        await orders.create_voucher(session, code, **terms)


async def _uses(database_url: str, code: str = "SPRING10") -> int:
    async with session_for(database_url) as session:
        found = await session.execute(
            text("SELECT used_count FROM voucher WHERE code = :c"), {"c": code}
        )
        return int(found.scalar_one())


async def _place(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> httpx.Response:
    headers = bearer(token, **{"Idempotency-Key": new_key()})
    return await client.post("/api/v1/orders", json=body, headers=headers)


async def test_a_voucher_takes_its_discount_off_the_order(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await _voucher(database_url)
    token = await channel_token(client, database_url)
    cart_token = await cart_with(client, token, await stocked_variant(database_url), quantity=2)

    placed = await _place(client, token, order_body(cart_token, voucher_code=" spring 10 "))

    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["subtotal_minor"], order["discount_minor"]) == (5000, 500)
    assert order["voucher_code"] == "SPRING10"
    assert order["total_minor"] == 5000 + order["shipping_minor"] - 500
    assert sum(line["discount_minor"] for line in order["lines"]) == 500
    assert await _uses(database_url) == 1
    again = await client.get(f"/api/v1/orders/{order['number']}", headers=bearer(token))
    assert again.json() == order


async def test_an_order_without_a_voucher_shows_none(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    cart_token = await cart_with(client, token, await stocked_variant(database_url))

    placed = await _place(client, token, order_body(cart_token, voucher_code=None))

    assert placed.status_code == 201, placed.text
    assert (placed.json()["discount_minor"], placed.json()["voucher_code"]) == (0, None)


@pytest.mark.parametrize(
    ("terms", "code", "message"),
    [
        ({"code": "OTHER"}, "voucher_unknown", "We do not know that code. Check it and try again."),
        ({"expires_at": NOW - timedelta(days=1)}, "voucher_expired",
         "The code SPRING10 has expired."),
        ({"starts_at": datetime(2099, 12, 1, tzinfo=UTC)}, "voucher_not_yet_valid",
         "The code SPRING10 can be used from 1 December 2099 (UTC)."),
        ({"min_spend_minor": 10_000}, "voucher_min_spend",
         "The code SPRING10 needs a spend of at least €100.00."),
        ({"usage_limit": 0}, "voucher_used_up", "The code SPRING10 has been used up."),
        ({"active": False}, "voucher_inactive", "The code SPRING10 is no longer valid."),
    ],
    ids=["unknown", "expired", "not-yet-valid", "minimum-spend", "used-up", "withdrawn"],
)  # fmt: skip
async def test_each_reason_a_voucher_is_refused_has_its_own_code(
    client: httpx.AsyncClient, database_url: str, terms: dict[str, Any], code: str, message: str
) -> None:
    await _voucher(database_url, **terms)
    token = await channel_token(client, database_url)
    variant_id = await stocked_variant(database_url)
    cart_token = await cart_with(client, token, variant_id, quantity=2)

    refused = await _place(client, token, order_body(cart_token, voucher_code="spring10"))

    assert refused.status_code == 422
    assert refused.json() == {"code": code, "message": message}
    # Nothing was ordered: no order, the cart as it was.
    assert (await client.get("/api/v1/orders", headers=bearer(token))).json()["total"] == 0
    cart = await client.get(f"/api/v1/carts/{cart_token}", headers=bearer(token))
    assert [line["quantity"] for line in cart.json()["lines"]] == [2]


@pytest.mark.parametrize(
    "voucher_code", ["", "   ", 10, "X" * 41], ids=["empty", "blank", "number", "too-long"]
)
async def test_a_malformed_voucher_code_is_an_invalid_field(
    client: httpx.AsyncClient, database_url: str, voucher_code: object
) -> None:
    token = await channel_token(client, database_url)
    cart_token = await cart_with(client, token, await stocked_variant(database_url))

    refused = await _place(client, token, order_body(cart_token, voucher_code=voucher_code))

    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_field"
    assert refused.json()["message"].startswith("voucher_code ")


async def test_two_orders_racing_for_the_last_use_one_gets_it(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await _voucher(database_url, usage_limit=1)
    token = await channel_token(client, database_url)
    variant_id = await stocked_variant(database_url)
    carts = [await cart_with(client, token, variant_id, quantity=2) for _ in range(2)]

    answers = await asyncio.gather(
        *[_place(client, token, order_body(cart, voucher_code="SPRING10")) for cart in carts]
    )

    assert sorted(answer.status_code for answer in answers) == [201, 422]
    refused = next(answer for answer in answers if answer.status_code == 422)
    assert refused.json()["code"] == "voucher_used_up"
    assert await _uses(database_url) == 1
