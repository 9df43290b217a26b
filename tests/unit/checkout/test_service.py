"""Placing an order: one transaction, once per key, nothing written when stock runs out, the
confirmation mailed through the outbox."""

from __future__ import annotations

import asyncio
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.checkout.service import CheckoutError, ItemsUnavailable
from app.devstack.mailsink import LocalMailSink
from app.inventory import service as inventory
from app.inventory.service import Line
from app.orders.service import guest_token
from app.settings import Settings
from tests.factories.db import session_for
from tests.factories.orders import place, ready_cart

pytestmark = pytest.mark.anyio


async def _counts(database_url: str) -> tuple[int, int, int, int]:
    """Orders, order lines, held reservations, queued confirmation mails."""
    async with session_for(database_url) as session:
        row = await session.execute(
            text(
                "SELECT (SELECT count(*) FROM shop_order), (SELECT count(*) FROM order_line), "
                "(SELECT count(*) FROM stock_reservation WHERE status = 'held'), "
                "(SELECT count(*) FROM outbox_event WHERE kind = 'email')"
            )
        )
        orders, lines, held, mails = row.one()
    return int(orders), int(lines), int(held), int(mails)


async def test_placing_writes_the_order_the_reservation_the_mail_and_empties_the_cart(
    settings: Settings,
) -> None:
    ready = await ready_cart(settings.database_url, quantity=3, price_minor=1190)

    placed = await place(settings, ready)

    order = placed.order
    assert placed.created
    assert order.status == "pending_payment"  # paid on the hosted page after the commit
    assert (order.subtotal_minor, order.shipping_minor, order.total_minor) == (3570, 495, 4065)
    assert order.tax_minor == 570 + 79  # 19 % German VAT included in the goods and shipping
    assert await _counts(settings.database_url) == (1, 1, 1, 1)
    async with session_for(settings.database_url) as session:
        left = await session.execute(text("SELECT count(*) FROM cart_line"))
        assert left.scalar_one() == 0


async def test_the_same_key_twice_gives_one_order(settings: Settings) -> None:
    ready = await ready_cart(settings.database_url)

    first = await place(settings, ready)
    second = await place(settings, ready)

    assert (first.created, second.created) == (True, False)
    assert first.order.number == second.order.number
    assert await _counts(settings.database_url) == (1, 1, 1, 1)


async def test_two_concurrent_submits_give_one_order(settings: Settings) -> None:
    ready = await ready_cart(settings.database_url)

    first, second = await asyncio.gather(place(settings, ready), place(settings, ready))

    assert first.order.number == second.order.number
    assert sorted([first.created, second.created]) == [False, True]
    assert await _counts(settings.database_url) == (1, 1, 1, 1)


async def test_an_empty_cart_cannot_be_ordered(settings: Settings) -> None:
    ready = await ready_cart(settings.database_url)
    await place(settings, ready)

    with pytest.raises(CheckoutError) as refused:
        await place(settings, ready, key="another-key-for-a-new-order")

    assert refused.value.code == "empty_cart"


async def _wait_for_lock_wait(database_url: str) -> None:
    deadline = time.monotonic() + 60  # generous: a loaded CI machine is slow to get there
    async with session_for(database_url) as session:
        while True:
            waiting = await session.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            )
            if waiting.scalar_one() > 0:
                return
            assert time.monotonic() < deadline, "the checkout never waited for the stock row"
            await asyncio.sleep(0.02)


async def test_stock_taken_meanwhile_refuses_the_order_and_writes_nothing(
    settings: Settings,
) -> None:
    ready = await ready_cart(settings.database_url, on_hand=2, quantity=2)

    # Another checkout holds the last units while this one is placing its order.
    async with session_for(settings.database_url) as rival:
        later = datetime.now(UTC) + timedelta(minutes=5)
        await inventory.reserve(rival, "EC-RIVAL", [Line(ready.variant_id, 1)], later)
        placing = asyncio.create_task(place(settings, ready))
        await _wait_for_lock_wait(settings.database_url)
    with pytest.raises(ItemsUnavailable) as refused:
        await placing

    assert refused.value.problems == [
        "Sorry, only 1 of Test Mug (Option 1) are left: lower the quantity to order."
    ]
    assert await _counts(settings.database_url) == (0, 0, 1, 0)  # only the rival's hold


async def test_the_confirmation_mail_arrives_with_a_signed_link(
    settings: Settings, worker: subprocess.Popen[bytes], mail_sink: LocalMailSink
) -> None:
    ready = await ready_cart(settings.database_url, email="mail.check@example.com")

    order = (await place(settings, ready)).order
    mail = await asyncio.to_thread(mail_sink.wait_for, lambda m: m.to == "mail.check@example.com")

    link = f"/orders/{order.number}?key={guest_token(str(settings.secret_key), order.number)}"
    assert mail.subject == f"Your Edgecart order {order.number}"
    assert mail.message.is_multipart()
    text_part = mail.message.get_body(("plain",))
    html_part = mail.message.get_body(("html",))
    assert text_part is not None
    assert html_part is not None
    assert link in text_part.get_content()
    assert link.replace("?", "?") in html_part.get_content().replace("&amp;", "&")
    assert "not paid yet" in text_part.get_content()
