"""Reading the outbox as a test sees it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def count_events(session: AsyncSession, kind: str | None = None) -> int:
    row = await session.execute(
        text("SELECT count(*) FROM outbox_event WHERE CAST(:kind AS text) IS NULL OR kind = :kind"),
        {"kind": kind},
    )
    return int(row.scalar_one())


async def event_times(session: AsyncSession, event_id: int) -> tuple[bool, bool]:
    """(relayed, done) for one event."""
    row = await session.execute(
        text("SELECT relayed_at IS NOT NULL, done_at IS NOT NULL FROM outbox_event WHERE id = :id"),
        {"id": event_id},
    )
    relayed, done = row.one()
    return bool(relayed), bool(done)


async def forget_relay(session: AsyncSession, event_id: int) -> None:
    """As if the relay had died after enqueueing and before its commit."""
    await session.execute(
        text("UPDATE outbox_event SET relayed_at = NULL WHERE id = :id"), {"id": event_id}
    )
