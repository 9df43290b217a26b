"""Inventory rules. Other domains read and change stock through these functions only.

Every change is one conditional UPDATE (never read-then-write), so two checkouts racing for
the last unit cannot both get it; the table's CHECK (0 <= reserved <= on_hand) backs that up.
Every change also writes a `stock_movement` row, and a change of what shoppers see (sold out,
low, back in stock) writes a `stock.status` outbox event. Never commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, any_, bindparam, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.edge import service as edge
from app.inventory.models import StockLevel, StockMovement
from app.outbox import service as outbox

LOW_STOCK = 5
STOCK_STATUS_KIND = "stock.status"
_RESERVE_ATTEMPTS = 3  # a concurrent sale can move the best warehouse; look again this often


class OutOfStock(Exception):
    """Fewer units available than asked for; `available` is how many there are now."""

    def __init__(self, variant_id: int, available: int) -> None:
        super().__init__(f"variant {variant_id}: only {available} available")
        self.variant_id = variant_id
        self.available = available


@dataclass(frozen=True)
class Line:
    variant_id: int
    quantity: int


async def stock_for_variants(session: AsyncSession, variant_ids: Iterable[int]) -> dict[int, int]:
    """Units available to sell per variant id (all warehouses, reservations taken off);
    variants without a stock row have none."""
    ids = list(variant_ids)
    if not ids:
        return {}
    # One array parameter, not IN (:a, :b, …): the statement stays the same for any number of
    # variants, so it is compiled and prepared once rather than parsed anew for every page.
    wanted = bindparam("variant_ids", ids, type_=ARRAY(Integer))
    rows = await session.execute(
        select(col(StockLevel.variant_id), func.sum(StockLevel.on_hand - StockLevel.reserved))
        .where(col(StockLevel.variant_id) == any_(wanted))
        .group_by(col(StockLevel.variant_id))
    )
    found = {variant_id: int(available) for variant_id, available in rows.all()}
    return {variant_id: found.get(variant_id, 0) for variant_id in ids}


def describe_stock(on_hand: int) -> str:
    """The words a shopper sees for a stock level."""
    if on_hand <= 0:
        return "Out of stock"
    if on_hand <= LOW_STOCK:
        return f"Only {on_hand} left"
    return "In stock"


async def _record(
    session: AsyncSession, variant_id: int, warehouse_id: int, on_hand_change: int,
    reserved_change: int, reason: str, reference: str, actor: str,
) -> None:  # fmt: skip
    session.add(
        StockMovement(
            variant_id=variant_id,
            warehouse_id=warehouse_id,
            on_hand_change=on_hand_change,
            reserved_change=reserved_change,
            reason=reason,
            reference=reference,
            actor=actor,
        )
    )


async def _announce(session: AsyncSession, variant_id: int, before: int, after: int) -> None:
    """An outbox event when what shoppers see changes: sold out, running low, back in stock."""
    if before > 0 and after <= 0:
        status = "sold_out"
    elif before <= 0 < after:
        status = "back_in_stock"
    elif after <= LOW_STOCK < before:
        status = "low"
    else:
        return
    payload = {"variant_id": variant_id, "status": status, "available": after}
    await outbox.add_event(session, STOCK_STATUS_KIND, payload)
    # Pages showing the variant (its product page, listings with its card) and its live stock
    # fragment name it in their surrogate keys.
    await edge.queue_purge(session, [f"variant-{variant_id}", f"stock-{variant_id}"])


# One round trip per line: hold the units in the first warehouse (by priority) that has enough,
# book the reservation, log the movement, and say what is left for sale afterwards. The UPDATE's
# RETURNING is the row as this sale left it (taken under its row lock, which orders concurrent
# sales); other warehouses' rows are read from the statement's snapshot.
_RESERVE = text(
    """
    WITH target AS (
        SELECT s.variant_id, s.warehouse_id
        FROM stock_level s JOIN warehouse w ON w.id = s.warehouse_id
        WHERE s.variant_id = :variant_id AND s.on_hand - s.reserved >= :quantity
        ORDER BY w.priority, w.id
        LIMIT 1
    ), held AS (
        UPDATE stock_level s SET reserved = s.reserved + :quantity
        FROM target t
        WHERE s.variant_id = t.variant_id AND s.warehouse_id = t.warehouse_id
          AND s.on_hand - s.reserved >= :quantity
        RETURNING s.warehouse_id, s.on_hand - s.reserved AS left_here
    ), booked AS (
        INSERT INTO stock_reservation (reference, variant_id, warehouse_id, quantity, expires_at)
        SELECT :reference, :variant_id, held.warehouse_id, :quantity, :expires FROM held
    ), logged AS (
        INSERT INTO stock_movement (variant_id, warehouse_id, on_hand_change, reserved_change,
                                    reason, reference, actor)
        SELECT :variant_id, held.warehouse_id, 0, :quantity, 'reserve', :reference, :actor
        FROM held
    )
    SELECT held.left_here + coalesce((
        SELECT sum(o.on_hand - o.reserved) FROM stock_level o
        WHERE o.variant_id = :variant_id AND o.warehouse_id <> held.warehouse_id
    ), 0)
    FROM held
    """
)


async def reserve(
    session: AsyncSession, reference: str, lines: Sequence[Line], expires_at: datetime,
    actor: str = "",
) -> None:  # fmt: skip
    """Hold stock for an order until it is paid (`commit`) or let go (`release`). Each line
    comes whole from one warehouse, the first by priority that has enough. Raises OutOfStock
    for the first line that cannot be held; the caller's transaction then rolls back."""
    for line in sorted(lines, key=lambda line: line.variant_id):  # one lock order: no deadlocks
        after = await _hold(session, line, reference, expires_at, actor)
        await _announce(session, line.variant_id, after + line.quantity, after)


async def _hold(
    session: AsyncSession, line: Line, reference: str, expires_at: datetime, actor: str
) -> int:
    """Reserve the line in one warehouse; what is left for sale after it. A miss is looked at
    again only while enough is available in all (a concurrent sale moved the best warehouse),
    else OutOfStock."""
    params = {"variant_id": line.variant_id, "quantity": line.quantity, "reference": reference,
              "expires": expires_at, "actor": actor}  # fmt: skip
    for _ in range(_RESERVE_ATTEMPTS):
        after = (await session.execute(_RESERVE, params)).scalar_one_or_none()
        if after is not None:
            return int(after)
        available = (await stock_for_variants(session, [line.variant_id]))[line.variant_id]
        if available < line.quantity:
            raise OutOfStock(line.variant_id, available)
    raise OutOfStock(line.variant_id, available)


async def _settle(
    session: AsyncSession, reference: str, status: str, reason: str, actor: str, *,
    sold: bool, only_expired_before: datetime | None = None,
) -> int:  # fmt: skip
    """Move the held reservations of `reference` to `status`, giving the units back to sale
    (release) or taking them off the shelf (sold). Returns how many lines were settled."""
    expired = "AND r.expires_at < :before" if only_expired_before is not None else ""
    held = await session.execute(
        text(
            f"UPDATE stock_reservation r SET status = :status "
            f"WHERE r.reference = :reference AND r.status = 'held' {expired} "
            f"RETURNING r.variant_id, r.warehouse_id, r.quantity"
        ),
        {"reference": reference, "status": status, "before": only_expired_before},
    )
    rows = sorted(held.all())
    for variant_id, warehouse_id, quantity in rows:
        await session.execute(
            text(
                "UPDATE stock_level SET reserved = reserved - :quantity, "
                "on_hand = on_hand - CASE WHEN :sold THEN :quantity ELSE 0 END "
                "WHERE variant_id = :variant_id AND warehouse_id = :warehouse_id"
            ),
            {"quantity": quantity, "sold": sold, "variant_id": variant_id,
             "warehouse_id": warehouse_id},
        )  # fmt: skip
        on_hand_change = -quantity if sold else 0
        await _record(
            session, variant_id, warehouse_id, on_hand_change, -quantity, reason, reference, actor
        )
        if not sold:
            after = (await stock_for_variants(session, [variant_id]))[variant_id]
            await _announce(session, variant_id, after - quantity, after)
    return len(rows)


async def release(
    session: AsyncSession, reference: str, actor: str = "", reason: str = "release"
) -> int:
    """Give an order's held units back to sale (cancelled, payment failed for good)."""
    return await _settle(session, reference, "released", reason, actor, sold=False)


async def commit(session: AsyncSession, reference: str, actor: str = "") -> int:
    """An order is paid: its held units leave stock for good."""
    return await _settle(session, reference, "committed", "sell", actor, sold=True)


async def extend(session: AsyncSession, reference: str, until: datetime) -> int:
    """Keep the units held for `reference` until at least `until` (a payment is in progress);
    how many reservation lines are still held (0: they were released already)."""
    held = await session.execute(
        text(
            "UPDATE stock_reservation SET expires_at = GREATEST(expires_at, :until) "
            "WHERE reference = :reference AND status = 'held' RETURNING id"
        ),
        {"reference": reference, "until": until},
    )
    return len(held.all())


async def release_expired(
    session: AsyncSession, now: datetime, limit: int = 100, keep: Collection[str] = ()
) -> list[str]:
    """Release reservations held past their expiry; the references (order numbers) released.
    References in `keep` (an order whose payment the provider has not settled) stay held."""
    rows = await session.execute(
        text(
            "SELECT DISTINCT reference FROM stock_reservation "
            "WHERE status = 'held' AND expires_at < :now "
            "AND NOT (reference = ANY(CAST(:keep AS text[]))) LIMIT :limit"
        ),
        {"now": now, "limit": limit, "keep": list(keep)},
    )
    references = list(rows.scalars())
    for reference in references:
        await _settle(
            session, reference, "released", "expire", "expiry job",
            sold=False, only_expired_before=now,
        )  # fmt: skip
    return references


async def restock(
    session: AsyncSession, variant_id: int, quantity: int, actor: str, warehouse_id: int = 1,
    reason: str = "restock",
) -> int:  # fmt: skip
    """Add (or, negative, remove) units on hand; the units available afterwards. Removing more
    than is unreserved raises OutOfStock."""
    before = (await stock_for_variants(session, [variant_id]))[variant_id]
    changed = await session.execute(
        text(
            "INSERT INTO stock_level (variant_id, warehouse_id, on_hand) "
            "VALUES (:variant_id, :warehouse_id, GREATEST(:quantity, 0)) "
            "ON CONFLICT (variant_id, warehouse_id) DO UPDATE "
            "SET on_hand = stock_level.on_hand + :quantity "
            "WHERE stock_level.on_hand + :quantity >= stock_level.reserved "
            "RETURNING on_hand"
        ),
        {"variant_id": variant_id, "warehouse_id": warehouse_id, "quantity": quantity},
    )
    if changed.scalar_one_or_none() is None:
        raise OutOfStock(variant_id, before)
    await _record(session, variant_id, warehouse_id, quantity, 0, reason, "", actor)
    await _announce(session, variant_id, before, before + quantity)
    return before + quantity
