"""Changing and removing cart lines through the API, and what the cart says when things change."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.factories.channel import bearer, cart_with, channel_token, stocked_variant
from tests.factories.db import session_for

pytestmark = pytest.mark.anyio


def _line_url(cart_token: str, variant_id: int | str) -> str:
    return f"/api/v1/carts/{cart_token}/lines/{variant_id}"


async def _sql(database_url: str, statement: str, **values: Any) -> None:
    async with session_for(database_url) as session:
        await session.execute(text(statement), values)


async def _lines(client: httpx.AsyncClient, token: str, cart_token: str) -> list[tuple[int, int]]:
    cart = await client.get(f"/api/v1/carts/{cart_token}", headers=bearer(token))
    assert cart.status_code == 200, cart.text
    return [(line["variant_id"], line["quantity"]) for line in cart.json()["lines"]]


async def test_patch_sets_the_quantity_of_a_line(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    variant_id = await stocked_variant(database_url, on_hand=5)
    cart_token = await cart_with(client, token, variant_id, quantity=2)

    changed = await client.patch(
        _line_url(cart_token, variant_id), json={"quantity": 5}, headers=bearer(token)
    )

    assert changed.status_code == 200, changed.text
    assert changed.headers["cache-control"] == "private, no-store"
    cart = changed.json()
    assert [(line["variant_id"], line["quantity"]) for line in cart["lines"]] == [(variant_id, 5)]
    assert cart["subtotal_minor"] == 5 * 2500
    assert cart["ready_for_checkout"] is True
    assert await _lines(client, token, cart_token) == [(variant_id, 5)]


@pytest.mark.parametrize(
    "remove",
    [
        lambda c, url, h: c.patch(url, json={"quantity": 0}, headers=h),
        lambda c, url, h: c.delete(url, headers=h),
    ],
    ids=["patch-quantity-0", "delete"],
)
async def test_a_line_is_removed_once_and_then_is_not_found(
    client: httpx.AsyncClient, database_url: str, remove: Any
) -> None:
    token = await channel_token(client, database_url)
    kept, dropped = await stocked_variant(database_url), await stocked_variant(database_url)
    cart_token = await cart_with(client, token, kept)
    await client.post(f"/api/v1/carts/{cart_token}/lines", headers=bearer(token),
                      json={"variant_id": dropped, "quantity": 1})  # fmt: skip

    removed = await remove(client, _line_url(cart_token, dropped), bearer(token))
    again = await remove(client, _line_url(cart_token, dropped), bearer(token))

    assert removed.status_code == 200, removed.text
    assert [line["variant_id"] for line in removed.json()["lines"]] == [kept]
    assert again.status_code == 404
    assert again.json() == {
        "code": "line_not_found",
        "message": "That item is not in your cart any more.",
    }
    assert await _lines(client, token, cart_token) == [(kept, 1)]


@pytest.mark.parametrize(
    ("on_hand_now", "status", "body"),
    [
        (5, 409, {"code": "not_enough", "message": "Only 5 available."}),
        (0, 409, {"code": "sold_out", "message": "Sorry, this is sold out."}),
    ],
    ids=["more-than-in-stock", "sold-out-since"],
)
async def test_a_quantity_over_stock_is_refused_and_the_line_kept(
    client: httpx.AsyncClient,
    database_url: str,
    on_hand_now: int,
    status: int,
    body: dict[str, str],
) -> None:
    token = await channel_token(client, database_url)
    variant_id = await stocked_variant(database_url, on_hand=5)
    cart_token = await cart_with(client, token, variant_id, quantity=2)
    await _sql(database_url, "UPDATE stock_level SET on_hand = :n WHERE variant_id = :v",
               n=on_hand_now, v=variant_id)  # fmt: skip

    refused = await client.patch(
        _line_url(cart_token, variant_id), json={"quantity": 6}, headers=bearer(token)
    )

    assert (refused.status_code, refused.json()) == (status, body)
    assert await _lines(client, token, cart_token) == [(variant_id, 2)]


@pytest.mark.parametrize(
    "line", ["not-in-cart", "abc", "0", "99999999999"], ids=["other", "word", "zero", "huge"]
)
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_a_line_that_is_not_in_the_cart_is_404(
    client: httpx.AsyncClient, database_url: str, line: str, method: str
) -> None:
    token = await channel_token(client, database_url)
    in_cart, elsewhere = await stocked_variant(database_url), await stocked_variant(database_url)
    cart_token = await cart_with(client, token, in_cart)
    target = str(elsewhere) if line == "not-in-cart" else line

    response = await client.request(
        method, _line_url(cart_token, target), json={"quantity": 1}, headers=bearer(token)
    )

    assert response.status_code == 404
    assert response.json()["code"] == "line_not_found"
    assert await _lines(client, token, cart_token) == [(in_cart, 1)]


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
async def test_someone_elses_cart_is_not_found_and_left_alone(
    client: httpx.AsyncClient, database_url: str, method: str
) -> None:
    owner = await channel_token(client, database_url)
    stranger = await channel_token(client, database_url)
    variant_id = await stocked_variant(database_url)
    cart_token = await cart_with(client, owner, variant_id, quantity=2)

    response = await client.request(
        method, _line_url(cart_token, variant_id), json={"quantity": 1}, headers=bearer(stranger)
    )

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "No such cart."}
    assert await _lines(client, owner, cart_token) == [(variant_id, 2)]


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b'{"quantity": 2', 400, "bad_request"),
        (b"[2]", 400, "bad_request"),
        (b"{}", 422, "invalid_field"),
        (b'{"quantity": "2"}', 422, "invalid_field"),
        (b'{"quantity": true}', 422, "invalid_field"),
        (b'{"quantity": -1}', 422, "invalid_field"),
        (b'{"quantity": 100}', 422, "invalid_field"),
        (b'{"quantity": 1.5}', 422, "invalid_field"),
    ],
    ids=["broken-json", "not-an-object", "missing", "string", "bool", "negative", "100", "float"],
)
async def test_a_bad_patch_body_is_refused_clearly(
    client: httpx.AsyncClient, database_url: str, content: bytes, status: int, code: str
) -> None:
    token = await channel_token(client, database_url)
    variant_id = await stocked_variant(database_url)
    cart_token = await cart_with(client, token, variant_id, quantity=2)

    response = await client.patch(
        _line_url(cart_token, variant_id), content=content, headers=bearer(token)
    )

    assert (response.status_code, response.json()["code"]) == (status, code)
    if code == "invalid_field":
        assert response.json()["message"] == "quantity must be a whole number from 0 to 99"
    assert await _lines(client, token, cart_token) == [(variant_id, 2)]


async def test_the_cart_explains_price_changes_and_stock_shortfalls(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    dearer, scarce, gone = [await stocked_variant(database_url, on_hand=5) for _ in range(3)]
    cart_token = await cart_with(client, token, dearer)
    for variant_id, quantity in ((scarce, 4), (gone, 1)):
        await client.post(f"/api/v1/carts/{cart_token}/lines", headers=bearer(token),
                          json={"variant_id": variant_id, "quantity": quantity})  # fmt: skip
    await _sql(database_url, "UPDATE product_variant SET price_minor = 2700 WHERE id = :v",
               v=dearer)  # fmt: skip
    await _sql(database_url, "UPDATE stock_level SET on_hand = 2 WHERE variant_id = :v", v=scarce)
    await _sql(database_url, "UPDATE stock_level SET on_hand = 0 WHERE variant_id = :v", v=gone)

    seen = await client.get(f"/api/v1/carts/{cart_token}", headers=bearer(token))

    cart = seen.json()
    explained = {
        line["variant_id"]: (line["problem"], line["note"], line["available"])
        for line in cart["lines"]
    }
    assert explained == {
        dearer: ("price_changed", "The price has gone up since you added it.", 5),
        scarce: ("not_enough", "Only 2 left: lower the quantity to check out.", 2),
        gone: ("sold_out", "Sold out since you added it: remove it to check out.", 0),
    }
    assert cart["ready_for_checkout"] is False
    assert cart["subtotal_minor"] == 2700  # only what can be bought, at today's price
    # Lowering the short line and removing the sold-out one makes the cart orderable again.
    lowered = await client.patch(
        _line_url(cart_token, scarce), json={"quantity": 2}, headers=bearer(token)
    )
    assert lowered.status_code == 200, lowered.text
    removed = await client.delete(_line_url(cart_token, gone), headers=bearer(token))
    assert removed.json()["ready_for_checkout"] is True


async def test_a_line_of_a_product_no_longer_sold_is_named_once_and_dropped(
    client: httpx.AsyncClient, database_url: str
) -> None:
    token = await channel_token(client, database_url)
    kept, withdrawn = await stocked_variant(database_url), await stocked_variant(database_url)
    cart_token = await cart_with(client, token, kept)
    await client.post(f"/api/v1/carts/{cart_token}/lines", headers=bearer(token),
                      json={"variant_id": withdrawn, "quantity": 1})  # fmt: skip
    # The catalog may delete a variant that sits in a cart (its line then names a variant that
    # no longer exists); the foreign key would refuse that here, so it is switched off for it.
    async with session_for(database_url) as session:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(text("DELETE FROM product_variant WHERE id = :v"), {"v": withdrawn})

    first = await client.get(f"/api/v1/carts/{cart_token}", headers=bearer(token))
    second = await client.get(f"/api/v1/carts/{cart_token}", headers=bearer(token))

    assert first.json()["removed_variant_ids"] == [withdrawn]
    assert [line["variant_id"] for line in first.json()["lines"]] == [kept]
    assert second.json()["removed_variant_ids"] == []
    assert [line["variant_id"] for line in second.json()["lines"]] == [kept]
