"""What a shopper reads about stock on the product page, from real rows."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.factories.catalog import MadeProduct, make_product
from tests.factories.db import session_for

pytestmark = pytest.mark.anyio


async def _make(database_url: str, stock: tuple[int, ...]) -> MadeProduct:
    async with session_for(database_url) as session:
        return await make_product(session, title="Enamel Mug", stock=stock, price_minor=1899)


def _stock_text(html: str) -> str:
    match = re.search(r'data-testid="stock-level"[^>]*>([^<]+)<', html)
    assert match, "no stock-level on the page"
    return match.group(1)


@pytest.mark.parametrize(
    ("stock", "shown", "can_buy"),
    [((40,), "In stock", True), ((3,), "Only 3 left", True), ((0,), "Out of stock", False),
     ((0, 7), "In stock", True)],
    ids=["plenty", "low", "none", "first-option-sold-out"],
)  # fmt: skip
async def test_stock_words_and_the_add_to_cart_button(
    client: httpx.AsyncClient,
    database_url: str,
    stock: tuple[int, ...],
    shown: str,
    can_buy: bool,
) -> None:
    made = await _make(database_url, stock)

    response = await client.get(f"/products/{made.slug}")

    assert response.status_code == 200
    assert _stock_text(response.text) == shown
    assert "€18.99" in response.text
    button = re.search(r"<button[^>]*data-testid=\"add-to-cart\"[^>]*>", response.text)
    assert button
    assert ("disabled" not in button.group(0)) is can_buy
