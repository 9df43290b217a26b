"""One order per Idempotency-Key: replays of the same body, a key reused with another body, and
replays sent all at once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.inventory import service as inventory
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


async def _post(client: httpx.AsyncClient, token: str, key: str, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = bearer(token, **{"Idempotency-Key": key, "Content-Type": "application/json"})
    return await client.post("/api/v1/orders", content=content, headers=headers)


async def _order_count(database_url: str) -> int:
    async with session_for(database_url) as session:
        return int((await session.execute(text("SELECT count(*) FROM shop_order"))).scalar_one())


async def _available(database_url: str, variant_id: int) -> int:
    async with session_for(database_url) as session:
        return (await inventory.stock_for_variants(session, [variant_id]))[variant_id]


@pytest.mark.parametrize(
    "change",
    [
        {"email": "someone.else@example.com"},
        {"shipping_method": "express"},
        {"voucher_code": "SPRING10"},
        {"note": "a field the API ignores is still part of the body"},
    ],
    ids=["email", "method", "voucher", "extra-field"],
)
async def test_the_same_key_with_another_body_is_refused(
    client: httpx.AsyncClient, database_url: str, change: dict[str, str]
) -> None:
    token = await channel_token(client, database_url)
    cart_token = await cart_with(client, token, await stocked_variant(database_url))
    key = new_key()
    first = await _post(client, token, key, order_body(cart_token))

    reused = await _post(client, token, key, order_body(cart_token) | change)

    assert first.status_code == 201, first.text
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert reused.json()["message"].startswith("This Idempotency-Key placed an order with a ")
    assert await _order_count(database_url) == 1
    # The key still gives back its order for the body that placed it.
    replay = await _post(client, token, key, order_body(cart_token))
    assert (replay.status_code, replay.json()) == (200, first.json())


async def test_the_same_body_spelled_differently_is_the_same_request(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    cart_token = await cart_with(client, token, await stocked_variant(database_url))
    key = new_key()
    body = order_body(cart_token)
    first = await _post(client, token, key, json.dumps(body, indent=2).encode())

    reordered = dict(reversed(list(body.items())))
    replay = await _post(client, token, key, json.dumps(reordered, separators=(",", ":")).encode())

    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json()["number"] == first.json()["number"]


async def test_concurrent_replays_place_one_order(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    variant_id = await stocked_variant(database_url, on_hand=5)
    cart_token = await cart_with(client, token, variant_id, quantity=2)
    key, body = new_key(), order_body(cart_token)

    answers = await asyncio.gather(*[_post(client, token, key, body) for _ in range(5)])

    assert sorted(answer.status_code for answer in answers) == [200, 200, 200, 200, 201], [
        answer.text for answer in answers
    ]
    assert len({answer.json()["number"] for answer in answers}) == 1
    assert await _order_count(database_url) == 1
    assert await _available(database_url, variant_id) == 3  # held once, not five times


async def test_concurrent_requests_with_one_key_and_two_bodies_place_one_order(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    cart_token = await cart_with(client, token, await stocked_variant(database_url))
    key = new_key()
    bodies = [order_body(cart_token), order_body(cart_token, email="bob@example.com")]

    answers = await asyncio.gather(*[_post(client, token, key, body) for body in bodies])

    assert sorted(answer.status_code for answer in answers) == [201, 422]
    refused = next(answer for answer in answers if answer.status_code == 422)
    assert refused.json()["code"] == "idempotency_key_reused"
    assert await _order_count(database_url) == 1
