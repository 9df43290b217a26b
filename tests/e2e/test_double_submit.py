"""A shopper taps place-order again while the first tap is still loading: one order.

A quick double click proves nothing: Chromium folds two submits of one form into one request
while the first has not left yet. What happens on a slow server is different: the first submit
is on the wire and being worked on, the page still shows the form, and the second tap sends it
again. The test builds that case for real. It holds the product's stock row from another
connection ("another sale"), so the first place-order waits inside its transaction; it taps
again once the database shows that wait, checks that the second submit is waiting too, then lets
go. Both requests carry the form's one idempotency key, and exactly one order comes out of them.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs

from playwright.sync_api import Request, expect
from sqlalchemy import Connection, NullPool, create_engine, make_url, text

from tests.conftest import LIVE_DATABASES
from tests.e2e.conftest import OpenPage, make_live_product, run_beside
from tests.e2e.test_checkout import choose_bank_transfer, fill_details
from tests.factories.db import session_for


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}"
        time.sleep(0.05)


def lock_waits(watcher: Connection, database: str) -> int:
    """How many sessions on `database` wait for a lock (a row or another transaction)."""
    waiting = watcher.execute(
        text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = :database AND wait_event_type = 'Lock'"
        ),
        {"database": database},
    )
    return int(waiting.scalar_one())


def test_tapping_place_order_again_while_it_loads_makes_one_order(
    open_page: OpenPage, base_url: str
) -> None:
    path, variant = make_live_product(base_url, "Double Tap Teapot", 5)
    email = f"double.{uuid.uuid4().hex[:10]}@example.com"
    # Without JavaScript the review form is a plain form, and every tap on it a new submit.
    page = open_page("phone", java_script_enabled=False)
    page.goto(path)
    page.get_by_test_id("add-to-cart").click()
    expect(page).to_have_url(f"{base_url}/cart")
    page.get_by_test_id("checkout-button").click()
    fill_details(page, email)
    page.get_by_role("button", name="Continue to review").click()
    choose_bank_transfer(page)  # the order page comes back, not the card provider's

    submits: list[Request] = []
    place_order_url = f"{base_url}/checkout/place-order"
    page.on("request", lambda r: submits.append(r) if r.url == place_order_url else None)
    database_url = LIVE_DATABASES[base_url]
    database = make_url(database_url).database or ""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            watcher.execution_options(isolation_level="AUTOCOMMIT")
            holder.execute(
                text("SELECT 1 FROM stock_level WHERE variant_id = :variant FOR UPDATE"),
                {"variant": variant},
            )
            # Taps on the screen, as a finger does: a locator's click would wait for the first
            # submit's page, which the server does not send while the stock is held.
            place_order = page.get_by_test_id("place-order")
            place_order.scroll_into_view_if_needed()
            box = place_order.bounding_box()
            assert box is not None
            x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            page.touchscreen.tap(x, y)
            wait_until(lambda: lock_waits(watcher, database) == 1, "the first submit to wait")
            page.touchscreen.tap(x, y)
            wait_until(lambda: lock_waits(watcher, database) == 2, "the second submit to wait")
            holder.rollback()  # the other sale is done: both submits go on
    finally:
        engine.dispose()

    expect(page.get_by_test_id("order-number")).to_have_text(re.compile(r"^EC-\d+$"))
    number = page.get_by_test_id("order-number").inner_text()
    assert [request.method for request in submits] == ["POST", "POST"]
    keys = [parse_qs(request.post_data or "").get("key") for request in submits]
    assert keys[0] is not None
    assert keys[0] == keys[1]  # the same form, so the same idempotency key

    async def orders_and_holds() -> tuple[list[str], int]:
        async with session_for(database_url) as session:
            orders = await session.execute(
                text("SELECT number FROM shop_order WHERE email = :email"), {"email": email}
            )
            held = await session.execute(
                text("SELECT reserved FROM stock_level WHERE variant_id = :variant"),
                {"variant": variant},
            )
            return list(orders.scalars()), int(held.scalar_one())

    assert run_beside(orders_and_holds) == ([number], 1)  # one order, one unit held for it
