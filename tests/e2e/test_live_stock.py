"""A shopper watching a product page sees the stock level change when someone else buys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from app.inventory import service as inventory
from app.inventory.service import Line
from tests.conftest import LIVE_DATABASES
from tests.e2e.conftest import BrowserProblems, OpenPage, make_live_product, run_beside
from tests.factories.db import session_for


def test_stock_level_updates_within_two_seconds_of_a_sale(
    open_page: OpenPage, base_url: str, browser_problems: BrowserProblems
) -> None:
    path, variant = make_live_product(base_url, "Watched Lamp", 8)

    async def sell(variant: int) -> None:
        async with session_for(LIVE_DATABASES[base_url]) as session:
            later = datetime.now(UTC) + timedelta(minutes=5)
            await inventory.reserve(session, "EC-E2E-LIVE", [Line(variant, 6)], later)

    page = open_page("phone")
    page.goto(path)
    stock = page.get_by_test_id("stock-level")
    expect(stock).to_have_text("In stock")

    run_beside(lambda: sell(variant))

    expect(stock).to_have_text("Only 2 left", timeout=2500)
    assert browser_problems.found == []
