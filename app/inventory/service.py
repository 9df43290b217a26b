"""Inventory rules. Other domains read stock through these functions only."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.inventory.models import StockLevel

LOW_STOCK = 5


async def stock_for_variants(session: AsyncSession, variant_ids: Iterable[int]) -> dict[int, int]:
    """Units on hand per variant id; variants without a stock row have none."""
    ids = list(variant_ids)
    if not ids:
        return {}
    # One array parameter, not IN (:a, :b, …): the statement stays the same for any number of
    # variants, so it is compiled and prepared once rather than parsed anew for every page.
    wanted = bindparam("variant_ids", ids, type_=ARRAY(Integer))
    rows = await session.execute(
        select(StockLevel.variant_id, StockLevel.on_hand).where(
            col(StockLevel.variant_id) == any_(wanted)
        )
    )
    found = {variant_id: on_hand for variant_id, on_hand in rows.all()}
    return {variant_id: found.get(variant_id, 0) for variant_id in ids}


def describe_stock(on_hand: int) -> str:
    """The words a shopper sees for a stock level."""
    if on_hand <= 0:
        return "Out of stock"
    if on_hand <= LOW_STOCK:
        return f"Only {on_hand} left"
    return "In stock"
