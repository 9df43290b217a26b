"""Collections: the seeded rule-based and hand-picked ones, and sale prices on cards."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.anyio


async def _scalar(database_url: str, sql: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return int((await connection.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def test_home_links_every_collection(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    links = re.findall(
        r'href="(/collections/[^"]+)"[^>]*data-testid="collection-link"', response.text
    )
    assert links == ["/collections/new-in", "/collections/sale", "/collections/staff-picks"]
    assert "collection-2" in response.headers["surrogate-key"].split()


async def test_sale_lists_exactly_the_products_with_a_compare_at_price(
    client: httpx.AsyncClient, database_url: str
) -> None:
    on_sale = await _scalar(
        database_url,
        "SELECT count(DISTINCT product_id) FROM product_variant WHERE compare_at_minor IS NOT NULL",
    )

    response = await client.get("/collections/sale")

    assert response.status_code == 200
    assert on_sale > 0
    assert f"{on_sale} product" in response.text
    assert response.text.count('data-testid="compare-at-price"') == min(on_sale, 24)
    assert "collection-2" in response.headers["surrogate-key"].split()


async def test_new_in_shows_the_newest_first(client: httpx.AsyncClient, database_url: str) -> None:
    newest = await _scalar(database_url, "SELECT id FROM product ORDER BY created_at DESC LIMIT 1")

    response = await client.get("/collections/new-in")

    first_card = response.text.index('data-testid="product-card"')
    keys = response.headers["surrogate-key"].split()
    assert keys[1] == f"product-{newest}"
    assert first_card > 0


async def test_staff_picks_keep_their_hand_picked_order(
    client: httpx.AsyncClient, database_url: str
) -> None:
    picks = await _scalar(database_url, "SELECT count(*) FROM collection_product")

    response = await client.get("/collections/staff-picks")

    assert response.status_code == 200
    assert response.text.count('data-testid="product-card"') == picks


async def test_unknown_collection_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/collections/nope")

    assert response.status_code == 404
