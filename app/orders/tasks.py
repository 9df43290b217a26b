"""Order jobs: unpaid orders whose stock reservation ran out are cancelled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.db import transaction
from app.orders import service as orders


async def cancel_expired_orders(ctx: dict[str, Any]) -> int:
    """Cron: cancel `pending_payment` orders past their reservation (recorded, stock released).
    Rows another worker is cancelling are skipped, so runs on several workers do not clash."""
    async with transaction(ctx["sessionmaker"]) as session:
        cancelled = await orders.cancel_expired_orders(session, datetime.now(UTC))
    return len(cancelled)
