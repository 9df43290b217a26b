"""Order jobs: unpaid orders whose stock reservation ran out are cancelled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.db import transaction
from app.orders import service as orders
from app.payments import service as payments


async def cancel_expired_orders(ctx: dict[str, Any]) -> int:
    """Cron: cancel `pending_payment` orders past their reservation (recorded, stock released).
    Rows another worker is cancelling are skipped, so runs on several workers do not clash.
    An order with a payment attempt the provider has not settled is left to the payments
    reconciliation job, which asks the provider first (docs/payments.md, "The stock rule")."""
    async with transaction(ctx["sessionmaker"]) as session:
        keep = await payments.orders_awaiting_provider(session)
        cancelled = await orders.cancel_expired_orders(session, datetime.now(UTC), keep=keep)
    return len(cancelled)
