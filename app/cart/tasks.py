"""Cart housekeeping for the worker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.cart import service as cart
from app.db import transaction


async def delete_stale_carts(ctx: dict[str, Any]) -> int:
    """Cron: carts nobody has touched for 30 days are deleted."""
    async with transaction(ctx["sessionmaker"]) as session:
        return await cart.delete_stale_carts(session, datetime.now(UTC))
