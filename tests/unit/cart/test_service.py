"""The cart: adding within stock, changes explained, merging at sign-in, stale carts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.cart import service as cart
from app.cart.service import CartError
from tests.factories.accounts import make_account
from tests.factories.catalog import make_product
from tests.factories.db import session_for

pytestmark = pytest.mark.anyio


async def _variant(database_url: str, on_hand: int = 10, price_minor: int = 1250) -> int:
    async with session_for(database_url) as session:
        made = await make_product(session, stock=(on_hand,), price_minor=price_minor)
    return made.variant_ids[0]


async def test_adding_makes_a_cart_and_adds_up(empty_database_url: str) -> None:
    variant = await _variant(empty_database_url)
    async with session_for(empty_database_url) as session:
        token = await cart.add_line(session, None, variant, 2)
        same = await cart.add_line(session, token, variant, 3)
        view = await cart.view_cart(session, token)

    assert same == token
    assert [(line.variant_id, line.quantity) for line in view.lines] == [(variant, 5)]
    assert view.count == 5
    assert view.subtotal_minor == 5 * 1250
    assert view.ready_for_checkout


@pytest.mark.parametrize(
    ("on_hand", "ask", "code"),
    [(0, 1, "sold_out"), (3, 4, "not_enough"), (200, 100, "bad_quantity")],
    ids=["sold-out", "more-than-stock", "absurd-quantity"],
)
async def test_what_cannot_be_bought_is_refused(
    empty_database_url: str, on_hand: int, ask: int, code: str
) -> None:
    variant = await _variant(empty_database_url, on_hand)

    async with session_for(empty_database_url) as session:
        with pytest.raises(CartError) as refused:
            await cart.add_line(session, None, variant, ask)

    assert refused.value.code == code


async def test_a_changed_price_and_shrunk_stock_are_explained(empty_database_url: str) -> None:
    dearer = await _variant(empty_database_url, 10, 1000)
    scarce = await _variant(empty_database_url, 5)
    async with session_for(empty_database_url) as session:
        token = await cart.add_line(session, None, dearer, 1)
        await cart.add_line(session, token, scarce, 4)
    async with session_for(empty_database_url) as session:
        await session.execute(
            text("UPDATE product_variant SET price_minor = 1200 WHERE id = :v"), {"v": dearer}
        )
        await session.execute(
            text("UPDATE stock_level SET on_hand = 2 WHERE variant_id = :v"), {"v": scarce}
        )

    async with session_for(empty_database_url) as session:
        view = await cart.view_cart(session, token)

    notes = {line.variant_id: line.note for line in view.lines}
    assert notes[dearer] == "The price has gone up since you added it."
    assert notes[scarce] == "Only 2 left: lower the quantity to check out."
    assert not view.ready_for_checkout
    assert view.subtotal_minor == 1200  # only what can be bought


async def test_signing_in_merges_the_guest_cart_into_the_account_cart(
    empty_database_url: str,
) -> None:
    account = await make_account(empty_database_url)
    mug, plate = await _variant(empty_database_url), await _variant(empty_database_url)
    async with session_for(empty_database_url) as session:
        earlier = await cart.add_line(session, None, mug, 1)
        assert await cart.adopt_cart(session, earlier, account.id or 0) == earlier
        guest = await cart.add_line(session, None, mug, 2)
        await cart.add_line(session, guest, plate, 1)

    async with session_for(empty_database_url) as session:
        kept = await cart.adopt_cart(session, guest, account.id or 0)
        view = await cart.view_cart(session, kept)
        gone = await cart.find_cart(session, guest)

    assert kept == earlier
    assert sorted((line.variant_id, line.quantity) for line in view.lines) == [(mug, 3), (plate, 1)]
    assert gone is None


async def test_carts_untouched_for_thirty_days_are_deleted(empty_database_url: str) -> None:
    variant = await _variant(empty_database_url)
    async with session_for(empty_database_url) as session:
        old = await cart.add_line(session, None, variant, 1)
        fresh = await cart.add_line(session, None, variant, 1)
        await session.execute(
            text("UPDATE cart SET updated_at = now() - interval '31 days' WHERE token = :t"),
            {"t": old},
        )

    async with session_for(empty_database_url) as session:
        deleted = await cart.delete_stale_carts(session, datetime.now(UTC) + timedelta(seconds=1))
        assert await cart.find_cart(session, old) is None
        assert await cart.find_cart(session, fresh) is not None

    assert deleted == 1
