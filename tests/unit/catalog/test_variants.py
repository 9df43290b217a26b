"""The variant picker: options to a variant, what each choice leads to, page or fragment."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.catalog.models import ImageView, VariantView
from app.catalog.variants import Dimension, images_for, select_variant
from app.db import create_sessionmaker, transaction
from tests.factories.catalog import MadeProduct, make_product

pytestmark = pytest.mark.anyio

# Navy in S, M (sold out) and L; Black in L only. Black / S and Black / M do not exist.
OPTIONS = (
    {"size": "S", "colour": "Navy"},
    {"size": "M", "colour": "Navy"},
    {"size": "L", "colour": "Navy"},
    {"size": "L", "colour": "Black"},
)
STOCK = (4, 0, 30, 12)
PRICES = (2500, 2600, 2700, 2900)


def _variant(id: int, sku: str, options: dict[str, str], price: int, stock: int) -> VariantView:
    title = " / ".join(options.values()) or sku
    return VariantView(
        id=id, sku=sku, title=title, options=options, price_minor=price, currency="EUR", stock=stock
    )


def _variants(stock: tuple[int, ...] = STOCK) -> list[VariantView]:
    return [
        _variant(10 + n, f"SKU-{n}", dict(o), PRICES[n], stock[n]) for n, o in enumerate(OPTIONS)
    ]


def _states(dimensions: Sequence[Dimension], name: str) -> dict[str, str]:
    dimension = next(d for d in dimensions if d.name == name)
    return {choice.value: choice.state for choice in dimension.choices}


# --- choosing a variant (no database) -----------------------------------------------------------


def test_options_choose_the_variant_that_has_them() -> None:
    picked = select_variant(_variants(), variant_id=None, options={"size": "L", "colour": "Black"})

    assert picked.variant is not None
    assert picked.variant.sku == "SKU-3"
    assert picked.from_options
    assert picked.reason == ""


def test_without_a_query_the_first_variant_in_stock_is_chosen() -> None:
    picked = select_variant(_variants(stock=(0, 0, 5, 1)), variant_id=None, options={})

    assert picked.variant is not None
    assert picked.variant.sku == "SKU-2"
    assert not picked.from_options


def test_when_all_are_sold_out_the_first_variant_is_shown_and_cannot_be_bought() -> None:
    picked = select_variant(_variants(stock=(0, 0, 0, 0)), variant_id=None, options={})

    assert picked.variant is not None
    assert picked.variant.sku == "SKU-0"
    assert "sold out" in picked.reason


@pytest.mark.parametrize(
    ("variant_id", "sku"),
    [("13", "SKU-3"), ("11", "SKU-1"), ("999", "SKU-0"), ("abc", "SKU-0"), ("", "SKU-0"),
     ("-12", "SKU-0"), ("1" * 40, "SKU-0")],
    ids=["known", "sold-out-but-asked-for", "unknown", "word", "empty", "negative", "huge"],
)  # fmt: skip
def test_variant_id_picks_that_variant_or_falls_back_to_the_default(
    variant_id: str, sku: str
) -> None:
    picked = select_variant(_variants(), variant_id=variant_id, options={})

    assert picked.variant is not None
    assert picked.variant.sku == sku


def test_a_combination_no_variant_has_is_unavailable_not_replaced() -> None:
    picked = select_variant(_variants(), variant_id="10", options={"colour": "Black"})

    assert picked.variant is None
    assert picked.chosen == {"size": "S", "colour": "Black"}
    assert picked.reason == "S / Black is not available. Choose another option."


def test_each_choice_says_what_picking_it_would_give() -> None:
    # Given Navy / S chosen
    picked = select_variant(_variants(), variant_id="10", options={})

    # Then sizes are judged in Navy, colours in size S
    assert _states(picked.dimensions, "size") == {
        "S": "available",
        "M": "sold_out",
        "L": "available",
    }
    assert _states(picked.dimensions, "colour") == {"Navy": "available", "Black": "unavailable"}
    notes = {c.value: c.note for d in picked.dimensions for c in d.choices}
    assert notes == {"S": "", "M": "Sold out", "L": "", "Navy": "", "Black": "Unavailable"}


def test_choices_follow_the_chosen_colour() -> None:
    picked = select_variant(_variants(), variant_id=None, options={"size": "L", "colour": "Black"})

    assert _states(picked.dimensions, "size") == {
        "S": "unavailable",
        "M": "unavailable",
        "L": "available",
    }
    selected = [c.value for d in picked.dimensions for c in d.choices if c.selected]
    assert selected == ["L", "Black"]


def test_unknown_option_values_and_names_are_ignored() -> None:
    picked = select_variant(
        _variants(), variant_id="12", options={"size": "XXL", "colour": "Navy", "fit": "slim"}
    )

    assert picked.variant is not None
    assert picked.variant.sku == "SKU-2"  # size L kept from variant 12, colour Navy given
    assert [d.name for d in picked.dimensions] == ["size", "colour"]


def test_variants_without_options_are_offered_by_title() -> None:
    variants = [
        replace(_variant(1, "A-1", {}, 100, 0), title="Small"),
        replace(_variant(2, "A-2", {}, 200, 3), title="Large"),
    ]

    picked = select_variant(variants, variant_id=None, options={"option": "Small"})

    assert picked.variant is not None
    assert picked.variant.sku == "A-1"
    assert [d.label for d in picked.dimensions] == ["Option"]
    assert [(c.value, c.state) for c in picked.dimensions[0].choices] == [
        ("Small", "sold_out"),
        ("Large", "available"),
    ]


def test_a_product_without_variants_has_nothing_to_choose() -> None:
    picked = select_variant([], variant_id="1", options={"size": "M"})

    assert picked.variant is None
    assert picked.dimensions == []
    assert picked.reason


def test_the_chosen_colour_puts_its_photo_first() -> None:
    images = [ImageView(f"products/p{n}", f"view {n}", 960, 960) for n in range(3)]
    black = select_variant(_variants(), variant_id="13", options={})
    navy = select_variant(_variants(), variant_id="10", options={})

    assert [i.stem for i in images_for(images, black)] == [
        "products/p1",
        "products/p2",
        "products/p0",
    ]
    assert images_for(images, navy) == images


# --- the product page and its buy-box fragment ---------------------------------------------------


async def _make(database_url: str) -> MadeProduct:
    engine = create_async_engine(database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await make_product(
                session, title="Field Jacket", stock=STOCK, options=OPTIONS, prices=PRICES
            )
    finally:
        await engine.dispose()


def _text(html: str, test_id: str) -> str:
    match = re.search(rf'data-testid="{test_id}"[^>]*>([^<]*)<', html)
    assert match, f"no {test_id}"
    return match.group(1).strip()


def _add_to_cart(html: str) -> str:
    match = re.search(r'<button[^>]*data-testid="add-to-cart"[^>]*>', html)
    assert match
    return match.group(0)


FRAGMENT = {"HX-Request": "true"}


async def test_the_page_shows_the_variant_of_its_url(
    client: httpx.AsyncClient, database_url: str
) -> None:
    made = await _make(database_url)

    response = await client.get(f"/products/{made.slug}", params={"variant": made.variant_ids[3]})

    assert response.status_code == 200
    assert _text(response.text, "product-price") == "€29.00"
    assert re.fullmatch(r"TEST-\d+-3", _text(response.text, "sku"))
    assert re.search(r'name="size" value="L" checked', response.text)
    assert re.search(r'name="colour" value="Black" checked', response.text)
    assert f'name="variant_id" value="{made.variant_ids[3]}"' in response.text
    assert 'data-testid="variant-select"' in response.text
    assert "<fieldset" in response.text
    assert "<legend>Size</legend>" in response.text
    assert "<noscript>" in response.text  # the Update button, for browsers without JavaScript


@pytest.mark.parametrize("variant", ["999999", "abc", "-1", ""], ids=str)
async def test_an_unknown_variant_shows_the_default_one(
    client: httpx.AsyncClient, database_url: str, variant: str
) -> None:
    made = await _make(database_url)

    response = await client.get(f"/products/{made.slug}", params={"variant": variant})

    assert response.status_code == 200
    assert f'name="variant_id" value="{made.variant_ids[0]}"' in response.text
    assert _text(response.text, "product-price") == "€25.00"


async def test_another_products_variant_id_shows_the_default_one(
    client: httpx.AsyncClient, database_url: str
) -> None:
    made = await _make(database_url)

    response = await client.get(f"/products/{made.slug}", params={"variant": "1"})

    assert response.status_code == 200
    assert f'name="variant_id" value="{made.variant_ids[0]}"' in response.text


async def test_htmx_gets_the_buy_box_with_the_variant_url_to_push(
    client: httpx.AsyncClient, database_url: str
) -> None:
    made = await _make(database_url)
    page = await client.get(f"/products/{made.slug}")

    response = await client.get(
        f"/products/{made.slug}", params={"size": "L", "colour": "Navy"}, headers=FRAGMENT
    )

    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="buy-box"')
    assert _text(response.text, "product-price") == "€27.00"
    assert _text(response.text, "stock-level") == "In stock"
    assert response.headers["hx-push-url"] == (
        f"/products/{made.slug}?variant={made.variant_ids[2]}"
    )
    # The photos and the screen-reader status are swapped out of band.
    assert 'id="product-gallery"' in response.text
    assert 'hx-swap-oob="true"' in response.text
    assert re.search(r'id="variant-status" hx-swap-oob="innerHTML">L / Navy: €27.00', response.text)
    # As cacheable at the edge as the page, under the same keys, apart from it by HX-Request.
    assert "HX-Request" in response.headers["vary"]
    assert response.headers["cache-control"] == page.headers["cache-control"]
    assert response.headers["surrogate-key"] == page.headers["surrogate-key"]
    assert f"product-{made.id}" in response.headers["surrogate-key"].split()
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "headers",
    [{}, {"HX-Request": "true", "HX-Boosted": "true"},
     {"HX-Request": "true", "HX-History-Restore-Request": "true"},
     {"HX-History-Restore-Request": "true"}],
    ids=["plain", "boosted", "history-restore", "history-restore-without-hx-request"],
)  # fmt: skip
async def test_navigations_get_the_whole_page(
    client: httpx.AsyncClient, database_url: str, headers: dict[str, str]
) -> None:
    made = await _make(database_url)

    response = await client.get(
        f"/products/{made.slug}", params={"variant": made.variant_ids[2]}, headers=headers
    )

    assert response.status_code == 200
    assert response.text.startswith("<!doctype html>")
    assert _text(response.text, "product-price") == "€27.00"
    assert "hx-swap-oob" not in response.text
    assert "HX-Request" in response.headers["vary"]


async def test_without_javascript_the_options_form_leads_to_the_variant_url(
    client: httpx.AsyncClient, database_url: str
) -> None:
    made = await _make(database_url)

    response = await client.get(f"/products/{made.slug}", params={"size": "L", "colour": "Black"})

    assert response.status_code == 303
    assert response.headers["location"] == f"/products/{made.slug}?variant={made.variant_ids[3]}"
    assert "HX-Request" in response.headers["vary"]
    assert response.headers["cache-control"].startswith("public")
    followed = await client.get(response.headers["location"])
    assert _text(followed.text, "product-price") == "€29.00"


@pytest.mark.parametrize("headers", [FRAGMENT, {}], ids=["htmx", "plain-form"])
async def test_a_combination_that_does_not_exist_is_shown_as_unavailable(
    client: httpx.AsyncClient, database_url: str, headers: dict[str, str]
) -> None:
    made = await _make(database_url)

    response = await client.get(
        f"/products/{made.slug}", params={"size": "S", "colour": "Black"}, headers=headers
    )

    assert response.status_code == 200
    assert _text(response.text, "product-price") == "Not available"
    assert _text(response.text, "stock-level") == "Not available in this combination"
    assert "disabled" in _add_to_cart(response.text)
    assert 'aria-describedby="buy-reason"' in _add_to_cart(response.text)
    assert (
        _text(response.text, "buy-reason") == "S / Black is not available. Choose another option."
    )
    assert 'name="variant_id"' not in response.text
    # Both chosen values stay checked; the ones that lead nowhere say so.
    assert re.search(r'name="size" value="S" checked', response.text)
    assert re.search(r'name="colour" value="Black" checked', response.text)
    assert response.text.count('class="option__note">Unavailable<') == 3  # S, M (Black); Navy ok
    if headers:
        assert response.headers["hx-push-url"] == "false"  # the address bar keeps the last variant


async def test_a_sold_out_variant_is_shown_with_the_button_disabled(
    client: httpx.AsyncClient, database_url: str
) -> None:
    made = await _make(database_url)

    response = await client.get(
        f"/products/{made.slug}", params={"size": "M", "colour": "Navy"}, headers=FRAGMENT
    )

    assert _text(response.text, "stock-level") == "Out of stock"
    assert _text(response.text, "product-price") == "€26.00"
    assert "disabled" in _add_to_cart(response.text)
    assert _text(response.text, "buy-reason") == "M / Navy is sold out. Choose another option."
    assert response.headers["hx-push-url"] == f"/products/{made.slug}?variant={made.variant_ids[1]}"
    sold_out = r'value="M" checked>\s*<span class="option__face">M <span class="option__note">Sold'
    assert re.search(sold_out, response.text)


async def test_in_stock_variant_can_be_added_to_the_cart(
    client: httpx.AsyncClient, database_url: str
) -> None:
    made = await _make(database_url)

    response = await client.get(f"/products/{made.slug}", params={"variant": made.variant_ids[0]})

    assert "disabled" not in _add_to_cart(response.text)
    assert 'data-testid="buy-reason"' not in response.text
    assert re.search(
        r"<form class=\"buy-form\" action=\"/cart/lines\" method=\"post\"", response.text
    )
    assert 'name="quantity"' in response.text
