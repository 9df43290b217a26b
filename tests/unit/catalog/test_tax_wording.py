"""How prices are meant (PRICES_INCLUDE_TAX) is said the same way on the product page, the
product cards, the cart and the footer: "incl. VAT", or "excl. VAT" with VAT added at checkout.
"""

from __future__ import annotations

import re
from dataclasses import replace

import httpx
import pytest

from app.settings import Settings
from tests.factories.catalog import make_product
from tests.factories.db import session_for

pytestmark = pytest.mark.anyio

INCLUDED = "incl. VAT"
EXCLUDED = "excl. VAT"
ADDED = "VAT added at checkout"


@pytest.fixture(params=[True, False], ids=["prices-include-tax", "prices-exclude-tax"])
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    return replace(settings, prices_include_tax=request.param)


def _labels(html: str) -> list[str]:
    return re.findall(r'data-testid="tax-label">([^<]*)<', html)


async def test_the_product_page_says_how_its_price_is_meant(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    async with session_for(settings.database_url) as session:
        made = await make_product(session, title="Tax Mug", price_minor=1250)

    page = await client.get(f"/products/{made.slug}")
    picked = await client.get(f"/products/{made.slug}", headers={"HX-Request": "true"})

    expected = INCLUDED if settings.prices_include_tax else f"{EXCLUDED}, {ADDED}"
    assert page.status_code == 200
    assert page.headers["cache-control"].startswith("public")  # the same page for everyone
    assert _labels(page.text) == [expected]
    assert _labels(picked.text) == [expected]  # the picker's fragment says it too
    footer = page.text[page.text.index('class="site-footer"') :]
    if settings.prices_include_tax:
        assert "prices include VAT" in footer
        assert EXCLUDED not in page.text
    else:
        assert "prices exclude VAT, added at checkout" in footer
        assert INCLUDED not in page.text
        assert "prices include VAT" not in page.text


async def test_every_product_card_says_it_too(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    home = await client.get("/")

    cards = home.text.count('data-testid="product-card"')
    expected = INCLUDED if settings.prices_include_tax else EXCLUDED
    assert cards >= 8
    assert _labels(home.text) == [expected] * cards


async def test_the_cart_says_how_its_prices_are_meant(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    async with session_for(settings.database_url) as session:
        made = await make_product(session, price_minor=1250)
    await client.post("/cart/lines", data={"variant_id": str(made.variant_ids[0]), "quantity": "2"})

    cart = await client.get("/cart")

    hint = re.search(r'data-testid="tax-hint">([^<]*)<', cart.text)
    assert cart.status_code == 200
    assert 'data-testid="cart-total">€25.00<' in cart.text
    assert hint
    if settings.prices_include_tax:
        assert _labels(cart.text) == [INCLUDED]
        assert hint.group(1) == "Prices include VAT. Shipping is worked out at checkout."
        assert EXCLUDED not in cart.text
    else:
        assert _labels(cart.text) == [EXCLUDED]
        assert hint.group(1) == f"Prices exclude VAT: {ADDED}, with shipping."
        assert INCLUDED not in cart.text
