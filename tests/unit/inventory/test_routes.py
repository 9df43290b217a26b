"""The live stock fragment: shared, cached at the edge for a second, current."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.inventory import service as inventory
from app.inventory.service import Line
from tests.factories.catalog import make_product
from tests.factories.db import session_for

pytestmark = pytest.mark.anyio


async def test_the_stock_fragment_follows_sales_and_is_shared(
    client: httpx.AsyncClient, database_url: str
) -> None:
    async with session_for(database_url) as session:
        made = await make_product(session, stock=(7,))
    variant = made.variant_ids[0]
    page = await client.get(f"/products/{made.slug}")
    assert f'hx-get="/stock/{variant}" hx-trigger="every 1s"' in page.text

    before = await client.get(f"/stock/{variant}")
    async with session_for(database_url) as session:
        later = datetime.now(UTC) + timedelta(minutes=5)
        await inventory.reserve(session, "EC-LIVE", [Line(variant, 4)], later)
    after = await client.get(f"/stock/{variant}")

    assert ">In stock</p>" in before.text
    assert ">Only 3 left</p>" in after.text
    assert after.headers["cache-control"].startswith("public, max-age=1, s-maxage=1")
    assert after.headers["surrogate-key"] == f"stock-{variant}"
    assert "set-cookie" not in after.headers


async def test_an_unknown_variant_is_simply_out_of_stock(client: httpx.AsyncClient) -> None:
    response = await client.get("/stock/987654")

    assert response.status_code == 200
    assert ">Out of stock</p>" in response.text
