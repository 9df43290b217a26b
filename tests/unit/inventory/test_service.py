"""Stock: reservations, release, sale, expiry, restock, the movement log and stock events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.inventory import service as inventory
from app.inventory.service import Line, OutOfStock
from tests.factories.catalog import make_product
from tests.factories.db import session_for

pytestmark = pytest.mark.anyio

LATER = datetime.now(UTC) + timedelta(minutes=30)


async def _variant(database_url: str, on_hand: int) -> int:
    async with session_for(database_url) as session:
        made = await make_product(session, stock=(on_hand,))
    return made.variant_ids[0]


async def _levels(database_url: str, variant_id: int) -> tuple[int, int]:
    async with session_for(database_url) as session:
        row = await session.execute(
            text("SELECT sum(on_hand), sum(reserved) FROM stock_level WHERE variant_id = :v"),
            {"v": variant_id},
        )
        on_hand, reserved = row.one()
    return int(on_hand), int(reserved)


async def _statuses(database_url: str) -> list[str]:
    async with session_for(database_url) as session:
        rows = await session.execute(
            text(
                "SELECT payload ->> 'status' FROM outbox_event WHERE kind = 'stock.status' "
                "ORDER BY id"
            )
        )
        return list(rows.scalars())


async def test_reserving_holds_units_and_paying_takes_them_off_the_shelf(
    empty_database_url: str,
) -> None:
    variant = await _variant(empty_database_url, 10)
    async with session_for(empty_database_url) as session:
        await inventory.reserve(session, "EC-1", [Line(variant, 3)], LATER)
        available = await inventory.stock_for_variants(session, [variant])
    assert available == {variant: 7}
    assert await _levels(empty_database_url, variant) == (10, 3)

    async with session_for(empty_database_url) as session:
        assert await inventory.commit(session, "EC-1") == 1
        assert await inventory.commit(session, "EC-1") == 0  # twice changes nothing

    assert await _levels(empty_database_url, variant) == (7, 0)


async def test_releasing_gives_the_units_back_once(empty_database_url: str) -> None:
    variant = await _variant(empty_database_url, 2)
    async with session_for(empty_database_url) as session:
        await inventory.reserve(session, "EC-2", [Line(variant, 2)], LATER)
    async with session_for(empty_database_url) as session:
        assert await inventory.release(session, "EC-2") == 1
        assert await inventory.release(session, "EC-2") == 0

    assert await _levels(empty_database_url, variant) == (2, 0)
    assert await _statuses(empty_database_url) == ["sold_out", "back_in_stock"]


async def test_more_than_available_is_refused_and_nothing_is_held(
    empty_database_url: str,
) -> None:
    plenty = await _variant(empty_database_url, 10)
    scarce = await _variant(empty_database_url, 1)

    with pytest.raises(OutOfStock) as refused:
        async with session_for(empty_database_url) as session:
            await inventory.reserve(session, "EC-3", [Line(plenty, 1), Line(scarce, 2)], LATER)

    assert refused.value.variant_id == scarce
    assert refused.value.available == 1
    assert await _levels(empty_database_url, plenty) == (10, 0)  # rolled back with the order


async def test_the_database_refuses_reserving_past_on_hand(empty_database_url: str) -> None:
    variant = await _variant(empty_database_url, 1)

    with pytest.raises(IntegrityError, match="ck_stock_level_reserved_within_on_hand"):
        async with session_for(empty_database_url) as session:
            await session.execute(
                text("UPDATE stock_level SET reserved = 2 WHERE variant_id = :v"), {"v": variant}
            )


async def test_twenty_buyers_racing_for_five_units_never_oversell(
    empty_database_url: str,
) -> None:
    variant = await _variant(empty_database_url, 5)

    async def buy(n: int) -> bool:
        try:
            async with session_for(empty_database_url) as session:
                await inventory.reserve(session, f"EC-R{n}", [Line(variant, 1)], LATER)
        except OutOfStock:
            return False
        return True

    results = await asyncio.gather(*(buy(n) for n in range(20)))

    assert sum(results) == 5
    assert await _levels(empty_database_url, variant) == (5, 5)


async def test_a_second_warehouse_serves_when_the_first_runs_out(
    empty_database_url: str,
) -> None:
    variant = await _variant(empty_database_url, 1)
    async with session_for(empty_database_url) as session:
        await session.execute(
            text("INSERT INTO warehouse (code, name, priority) VALUES ('north', 'North', 5)")
        )
        await inventory.restock(session, variant, 4, "test", warehouse_id=2)
    async with session_for(empty_database_url) as session:
        await inventory.reserve(session, "EC-4", [Line(variant, 1)], LATER)  # main: priority 0
        await inventory.reserve(session, "EC-5", [Line(variant, 3)], LATER)  # main has none left
        rows = await session.execute(
            text("SELECT reference, warehouse_id FROM stock_reservation ORDER BY id")
        )
        assert rows.all() == [("EC-4", 1), ("EC-5", 2)]
    assert await _levels(empty_database_url, variant) == (5, 4)


async def test_expired_reservations_are_released(empty_database_url: str) -> None:
    variant = await _variant(empty_database_url, 3)
    past = datetime.now(UTC) - timedelta(minutes=1)
    async with session_for(empty_database_url) as session:
        await inventory.reserve(session, "EC-OLD", [Line(variant, 2)], past)
        await inventory.reserve(session, "EC-NEW", [Line(variant, 1)], LATER)

    async with session_for(empty_database_url) as session:
        released = await inventory.release_expired(session, datetime.now(UTC))

    assert released == ["EC-OLD"]
    assert await _levels(empty_database_url, variant) == (3, 1)


async def test_every_change_is_logged_with_reason_and_actor(empty_database_url: str) -> None:
    variant = await _variant(empty_database_url, 0)
    async with session_for(empty_database_url) as session:
        await inventory.restock(session, variant, 6, "clerk@example.com")
        await inventory.reserve(session, "EC-6", [Line(variant, 2)], LATER, "web")
        await inventory.commit(session, "EC-6", "payments")
        rows = await session.execute(
            text("SELECT reason, on_hand_change, reserved_change, reference, actor "
                 "FROM stock_movement WHERE variant_id = :v ORDER BY id"), {"v": variant}
        )  # fmt: skip
        assert rows.all() == [
            ("restock", 6, 0, "", "clerk@example.com"),
            ("reserve", 0, 2, "EC-6", "web"),
            ("sell", -2, -2, "EC-6", "payments"),
        ]
    assert await _statuses(empty_database_url) == ["back_in_stock", "low"]


async def test_removing_reserved_units_is_refused(empty_database_url: str) -> None:
    variant = await _variant(empty_database_url, 3)
    async with session_for(empty_database_url) as session:
        await inventory.reserve(session, "EC-7", [Line(variant, 2)], LATER)

    with pytest.raises(OutOfStock):
        async with session_for(empty_database_url) as session:
            await inventory.restock(session, variant, -2, "clerk", reason="adjust")

    assert await _levels(empty_database_url, variant) == (3, 2)
