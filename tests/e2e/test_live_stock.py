"""A shopper watching a product page sees the stock level change when someone else buys."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from playwright.sync_api import expect

from app.inventory import service as inventory
from app.inventory.service import Line
from tests.conftest import LIVE_DATABASES
from tests.e2e.conftest import BrowserProblems, OpenPage
from tests.factories.catalog import make_product
from tests.factories.db import session_for

T = TypeVar("T")


def run_beside(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run async database work from a sync Playwright test (whose thread has a loop running)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


def test_stock_level_updates_within_two_seconds_of_a_sale(
    open_page: OpenPage, base_url: str, browser_problems: BrowserProblems
) -> None:
    database_url = LIVE_DATABASES[base_url]

    async def make() -> tuple[str, int]:
        async with session_for(database_url) as session:
            made = await make_product(session, title="Watched Lamp", stock=(8,))
        return made.slug, made.variant_ids[0]

    async def sell(variant: int) -> None:
        async with session_for(database_url) as session:
            later = datetime.now(UTC) + timedelta(minutes=5)
            await inventory.reserve(session, "EC-E2E-LIVE", [Line(variant, 6)], later)

    slug, variant = run_beside(make)
    page = open_page("phone")
    page.goto(f"/products/{slug}")
    stock = page.get_by_test_id("stock-level")
    expect(stock).to_have_text("In stock")

    run_beside(lambda: sell(variant))

    expect(stock).to_have_text("Only 2 left", timeout=2500)
    assert browser_problems.found == []
