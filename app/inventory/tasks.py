"""The worker job behind `stock.status` outbox events: a variant sold out, ran low or came back.

It refreshes the product's search document (the "in stock" facet and filter read it). The
pages showing the variant are purged by the `edge.purge` event written beside this one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.catalog import service as catalog
from app.db import transaction
from app.inventory import service as inventory
from app.inventory.service import STOCK_STATUS_KIND
from app.outbox import service as outbox
from app.payments import service as payments
from app.search import service as search


async def refresh_stock_status(ctx: dict[str, Any], event_id: int) -> str:
    async with transaction(ctx["sessionmaker"]) as session:
        event = await outbox.lock_pending_event(session, event_id, STOCK_STATUS_KIND)
        if event is None:
            return "skipped: done already"
        variant_id = int(event.payload["variant_id"])
        offers = await catalog.list_variant_offers(session, [variant_id])
        if variant_id in offers:
            await search.reindex_products(session, [offers[variant_id].product_id])
        await outbox.mark_done(session, event_id)
    return f"variant {variant_id}: {event.payload['status']}"


async def release_expired_reservations(ctx: dict[str, Any]) -> int:
    """Cron: stock held for orders that were never paid goes back on sale; never the stock of
    an order whose payment the provider has not settled (the reconciliation job decides)."""
    async with transaction(ctx["sessionmaker"]) as session:
        keep = await payments.orders_awaiting_provider(session)
        released = await inventory.release_expired(session, datetime.now(UTC), keep=keep)
    return len(released)
