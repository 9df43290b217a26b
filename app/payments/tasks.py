"""Payment jobs: the reconciliation cron (app/payments/reconcile.py)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from app.payments.gateways import create_gateway
from app.payments.reconcile import reconcile_payments as reconcile


async def reconcile_payments(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron, every minute: ask the provider about attempts left unsettled, pay or close them,
    refund money that paid no order. Idempotent: every provider call carries its key."""
    gateway = create_gateway(ctx["settings"])
    try:
        done = await reconcile(ctx["sessionmaker"], gateway, ctx["settings"], datetime.now(UTC))
    finally:
        await gateway.aclose()
    return asdict(done)
