"""Orders: the status machine, cancellation and expiry releasing stock and giving voucher uses
back, guest links, vouchers taken by a conditional update."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from app.orders import service as orders
from app.orders.service import IllegalTransition
from app.orders.tasks import cancel_expired_orders
from app.orders.vouchers import VoucherRefused
from app.settings import Settings
from tests.factories.accounts import make_account
from tests.factories.db import session_for
from tests.factories.orders import make_order, place, ready_cart, with_reservation

pytestmark = pytest.mark.anyio
NOW = datetime.now(UTC)


async def _available(database_url: str, number: str) -> int:
    async with session_for(database_url) as session:
        row = await session.execute(
            text(
                "SELECT sum(s.on_hand - s.reserved) FROM stock_level s JOIN order_line l "
                "ON l.variant_id = s.variant_id JOIN shop_order o ON o.id = l.order_id "
                "WHERE o.number = :number"
            ),
            {"number": number},
        )
        return int(row.scalar_one())


async def test_numbers_are_readable_and_the_first_status_is_recorded(settings: Settings) -> None:
    order = await make_order(settings)

    async with session_for(settings.database_url) as session:
        assert order.id is not None
        history = await orders.list_history(session, order.id)
    assert order.number.startswith("EC-1")
    assert order.status == "pending_payment"
    assert [(h.from_status, h.to_status, h.actor) for h in history] == [
        (None, "pending_payment", "gia@example.com")
    ]


async def test_an_order_moves_through_its_life_and_each_step_is_recorded(
    settings: Settings,
) -> None:
    order = await make_order(settings)
    path = ["paid", "partially_fulfilled", "fulfilled", "shipped", "delivered", "refunded"]

    async with session_for(settings.database_url) as session:
        found = await orders.get_order(session, order.number)
        assert found is not None
        await orders.mark_paid(session, found, "payments")
        for status in path[1:]:
            await orders.transition(session, found, status, "clerk@example.com", "note")
        assert found.id is not None
        history = await orders.list_history(session, found.id)

    assert [h.to_status for h in history] == ["pending_payment", *path]
    assert history[2].actor == "clerk@example.com"
    assert all(h.at is not None for h in history)


@pytest.mark.parametrize(
    ("route", "illegal"),
    [
        ([], "shipped"),
        ([], "refunded"),
        (["paid"], "cancelled"),
        (["paid"], "pending_payment"),
        (["cancelled"], "paid"),
        (["paid", "refunded"], "shipped"),
    ],
    ids=["unpaid-shipped", "unpaid-refunded", "paid-cancelled", "back-to-unpaid",
         "cancelled-paid", "refunded-shipped"],
)  # fmt: skip
async def test_illegal_transitions_are_refused(
    settings: Settings, route: list[str], illegal: str
) -> None:
    order = await make_order(settings)
    async with session_for(settings.database_url) as session:
        found = await orders.get_order(session, order.number)
        assert found is not None
        for status in route:
            await orders.transition(session, found, status, "test")
        with pytest.raises(IllegalTransition):
            await orders.transition(session, found, illegal, "test")
        assert found.status == (route[-1] if route else "pending_payment")


async def test_cancelling_gives_the_stock_back(settings: Settings) -> None:
    order = await make_order(settings, on_hand=5, quantity=2)
    held = await _available(settings.database_url, order.number)

    async with session_for(settings.database_url) as session:
        found = await orders.get_order(session, order.number)
        assert found is not None
        await orders.cancel_order(session, found, "support@example.com", "asked by phone")

    assert held == 3
    assert await _available(settings.database_url, order.number) == 5


async def test_the_expiry_job_cancels_unpaid_orders_past_their_reservation(
    settings: Settings, job_context: dict[str, Any]
) -> None:
    expired = await make_order(with_reservation(settings, 1), on_hand=5, quantity=2)
    fresh = await make_order(settings, on_hand=5, quantity=1)
    async with session_for(settings.database_url) as session:  # a minute and more has passed
        await session.execute(
            text("UPDATE shop_order SET reserved_until = now() - interval '1 second' "
                 "WHERE number = :n"), {"n": expired.number},
        )  # fmt: skip

    cancelled = await cancel_expired_orders(job_context)
    again = await cancel_expired_orders(job_context)

    async with session_for(settings.database_url) as session:
        gone = await orders.get_order(session, expired.number)
        kept = await orders.get_order(session, fresh.number)
        assert gone is not None
        assert gone.id is not None
        history = await orders.list_history(session, gone.id)
    assert (cancelled, again) == (1, 0)
    assert gone.status == "cancelled"
    assert kept is not None
    assert kept.status == "pending_payment"
    assert (history[-1].actor, history[-1].from_status) == ("expiry job", "pending_payment")
    assert await _available(settings.database_url, expired.number) == 5


async def test_who_may_see_an_order(settings: Settings) -> None:
    order = await make_order(settings)
    owner = await make_account(settings.database_url, "owner@example.com")
    other = await make_account(settings.database_url, "other@example.com")
    clerk = await make_account(settings.database_url, "clerk@example.com", role="clerk")
    order.account_id = owner.id
    secret = str(settings.secret_key)
    link = orders.guest_token(secret, order.number)

    def sees(**who: Any) -> bool:
        values = {"account": None, "guest_numbers": [], "token": "", "secret": secret} | who
        return orders.may_view(order, **values)

    assert sees(account=owner)
    assert sees(account=clerk)
    assert sees(guest_numbers=[order.number])
    assert sees(token=link)
    assert not sees(account=other)
    assert not sees(token=link[:-1] + "0")
    assert not sees(token=orders.guest_token(secret, "EC-1"))
    assert not sees()


async def _voucher(database_url: str, **terms: Any) -> None:
    async with session_for(database_url) as session:
        await orders.create_voucher(session, terms.pop("code", "spring 10"), **terms)


async def test_a_use_is_taken_by_a_conditional_update_up_to_the_limit(
    empty_database_url: str,
) -> None:
    await _voucher(empty_database_url, kind="fixed", amount=500, usage_limit=1)

    async with session_for(empty_database_url) as session:
        taken = await orders.take_voucher_use(session, "Spring10", 2000, "EUR", NOW)
    async with session_for(empty_database_url) as session:
        with pytest.raises(VoucherRefused) as refused:
            await orders.take_voucher_use(session, "SPRING10", 2000, "EUR", NOW)

    assert taken.code == "SPRING10"
    assert refused.value.code == "used_up"


@pytest.mark.parametrize(
    ("terms", "code"),
    [
        ({"code": "OTHER"}, "unknown"),
        ({"active": False}, "inactive"),
        ({"expires_at": NOW - timedelta(days=1)}, "expired"),
        ({"min_spend_minor": 10_000}, "min_spend"),
        ({"starts_at": NOW + timedelta(minutes=1)}, "not_yet_valid"),
    ],
    ids=["unknown", "inactive", "expired", "minimum-spend", "not-yet-valid"],
)
async def test_a_stored_code_is_refused_with_its_reason(
    empty_database_url: str, terms: dict[str, Any], code: str
) -> None:
    await _voucher(empty_database_url, kind="percent", amount=10, **terms)

    async with session_for(empty_database_url) as session:
        with pytest.raises(VoucherRefused) as refused:
            await orders.check_voucher(session, "SPRING10", 2000, "EUR", NOW)

    assert refused.value.code == code


async def test_no_use_is_taken_before_the_start_and_one_is_from_it(
    empty_database_url: str,
) -> None:
    await _voucher(empty_database_url, kind="fixed", amount=500, starts_at=NOW)

    async with session_for(empty_database_url) as session:
        with pytest.raises(VoucherRefused) as refused:
            await orders.take_voucher_use(session, "SPRING10", 2000, "EUR", NOW - timedelta(1))
    async with session_for(empty_database_url) as session:
        taken = await orders.take_voucher_use(session, "SPRING10", 2000, "EUR", NOW)

    assert refused.value.code == "not_yet_valid"
    assert taken.used_count == 0  # the terms as they were before this use


async def _uses(database_url: str, code: str = "SPRING10") -> int:
    async with session_for(database_url) as session:
        found = await session.execute(
            text("SELECT used_count FROM voucher WHERE code = :code"), {"code": code}
        )
        return int(found.scalar_one())


async def test_cancelling_gives_the_voucher_use_back_once(settings: Settings) -> None:
    await _voucher(settings.database_url, kind="fixed", amount=500, usage_limit=1)
    order = await make_order(settings, voucher="SPRING10")
    used = await _uses(settings.database_url)
    with pytest.raises(VoucherRefused) as refused:
        await make_order(settings, voucher="SPRING10")

    async with session_for(settings.database_url) as session:
        found = await orders.get_order(session, order.number)
        assert found is not None
        await orders.cancel_order(session, found, "support@example.com", "changed their mind")
    given_back = await _uses(settings.database_url)
    async with session_for(settings.database_url) as session:
        again = await orders.get_order(session, order.number)
        assert again is not None
        with pytest.raises(IllegalTransition):
            await orders.cancel_order(session, again, "support@example.com")
    after_second_try = await _uses(settings.database_url)
    reused = await make_order(settings, voucher="SPRING10")

    assert (order.voucher_code, order.discount_minor) == ("SPRING10", 500)
    assert used == 1
    assert refused.value.message == "The code SPRING10 has been used up."
    assert (given_back, after_second_try) == (0, 0)
    assert (reused.voucher_code, reused.discount_minor) == ("SPRING10", 500)
    assert await _uses(settings.database_url) == 1


async def test_the_expiry_job_gives_the_voucher_use_back(
    settings: Settings, job_context: dict[str, Any]
) -> None:
    await _voucher(settings.database_url, kind="percent", amount=10, usage_limit=5)
    expired = await make_order(with_reservation(settings, 1), voucher="spring10")
    kept = await make_order(settings, voucher="SPRING10")
    async with session_for(settings.database_url) as session:
        await session.execute(
            text("UPDATE shop_order SET reserved_until = now() - interval '1 second' "
                 "WHERE number = :n"), {"n": expired.number},
        )  # fmt: skip
    before = await _uses(settings.database_url)

    cancelled = await cancel_expired_orders(job_context)
    again = await cancel_expired_orders(job_context)

    assert (kept.voucher_code, expired.voucher_code) == ("SPRING10", "SPRING10")
    assert (before, cancelled, again) == (2, 1, 0)
    assert await _uses(settings.database_url) == 1  # the kept order's use only


async def test_an_order_without_a_voucher_gives_nothing_back(settings: Settings) -> None:
    await _voucher(settings.database_url, kind="fixed", amount=500, usage_limit=3)
    await make_order(settings, voucher="SPRING10")
    plain = await make_order(settings)

    async with session_for(settings.database_url) as session:
        found = await orders.get_order(session, plain.number)
        assert found is not None
        await orders.cancel_order(session, found, "support@example.com")

    assert plain.voucher_code is None
    assert await _uses(settings.database_url) == 1


async def test_two_orders_racing_for_the_last_use_one_wins(settings: Settings) -> None:
    await _voucher(settings.database_url, kind="fixed", amount=500, usage_limit=1)
    first = await ready_cart(settings.database_url, voucher="SPRING10")
    second = await ready_cart(settings.database_url, voucher="SPRING10")

    results = await asyncio.gather(
        place(settings, first), place(settings, second), return_exceptions=True
    )

    placed = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(placed) == len(refused) == 1
    assert isinstance(refused[0], VoucherRefused)
    assert refused[0].code == "used_up"
    assert await _uses(settings.database_url) == 1
    async with session_for(settings.database_url) as session:
        counted = await session.execute(text("SELECT count(*) FROM shop_order"))
        held = await session.execute(
            text("SELECT count(*) FROM stock_reservation WHERE status = 'held'")
        )
        assert (counted.scalar_one(), held.scalar_one()) == (1, 1)  # the loser wrote nothing
