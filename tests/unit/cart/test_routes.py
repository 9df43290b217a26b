"""The cart over HTTP: plain forms and htmx, the badge, the session cookie only when needed."""

from __future__ import annotations

import httpx
import pytest

from tests.factories.accounts import make_account
from tests.factories.catalog import make_product
from tests.factories.db import session_for
from tests.unit.accounts.conftest import sign_in

pytestmark = pytest.mark.anyio
HTMX = {"HX-Request": "true"}


async def _variant(database_url: str, on_hand: int = 10) -> int:
    async with session_for(database_url) as session:
        made = await make_product(session, stock=(on_hand,))
    return made.variant_ids[0]


async def test_adding_without_javascript_goes_to_the_cart_page(
    client: httpx.AsyncClient, database_url: str
) -> None:
    variant = await _variant(database_url)
    assert "set-cookie" not in (await client.get("/cart")).headers

    added = await client.post("/cart/lines", data={"variant_id": str(variant), "quantity": "2"})
    page = await client.get("/cart")
    badge = await client.get("/fragments/me")

    assert added.status_code == 303
    assert added.headers["location"] == "/cart"
    assert "edgecart_session=" in added.headers["set-cookie"]
    assert page.text.count('data-testid="cart-line"') == 1
    assert 'data-testid="cart-count">2<' in badge.text
    assert page.headers["cache-control"] == "private, no-store"


async def test_adding_with_htmx_answers_a_note_and_the_badge_out_of_band(
    client: httpx.AsyncClient, database_url: str
) -> None:
    variant = await _variant(database_url)

    added = await client.post(
        "/cart/lines", data={"variant_id": str(variant), "quantity": "3"}, headers=HTMX
    )

    assert added.status_code == 200
    assert "Added 3 to your cart." in added.text
    assert 'id="cart-badge" hx-swap-oob="outerHTML"' in added.text
    assert 'data-testid="cart-count">3<' in added.text


async def test_sold_out_and_bad_input_get_a_clear_answer(
    client: httpx.AsyncClient, database_url: str
) -> None:
    sold_out = await _variant(database_url, 0)

    refused = await client.post(
        "/cart/lines", data={"variant_id": str(sold_out), "quantity": "1"}, headers=HTMX
    )
    nonsense = await client.post("/cart/lines", data={"variant_id": "x", "quantity": "-1"})

    assert refused.status_code == 422
    assert "Sorry, this is sold out." in refused.text
    assert nonsense.status_code == 422
    assert 'data-testid="form-error"' in nonsense.text
    assert "set-cookie" not in refused.headers


async def test_change_and_remove_lines(client: httpx.AsyncClient, database_url: str) -> None:
    variant = await _variant(database_url)
    await client.post("/cart/lines", data={"variant_id": str(variant), "quantity": "1"})

    changed = await client.post(f"/cart/lines/{variant}", data={"quantity": "4"}, headers=HTMX)
    removed = await client.post(f"/cart/lines/{variant}/remove", headers=HTMX)

    assert 'value="4"' in changed.text
    assert 'data-testid="cart-count">4<' in changed.text
    assert 'data-testid="cart-empty"' in removed.text
    assert 'data-testid="cart-count">0<' in removed.text


async def test_the_guest_cart_follows_the_shopper_into_their_account(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")
    variant = await _variant(database_url)
    await client.post("/cart/lines", data={"variant_id": str(variant), "quantity": "2"})

    await sign_in(client, "ada@example.com")
    client.cookies.clear()
    await sign_in(client, "ada@example.com")  # another device: the account's cart
    badge = await client.get("/fragments/me")

    assert 'data-testid="cart-count">2<' in badge.text
