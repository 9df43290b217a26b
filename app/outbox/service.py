"""Writing side effects to the outbox, and the steps the relay and the jobs take on them.

Nothing here commits: an event belongs to the transaction of the change that caused it, so it
is kept or lost together with that change.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.outbox.models import OutboxEvent

MAX_KIND_LENGTH = 50
# PostgreSQL delivers a NOTIFY on this channel when (and only if) the writing transaction
# commits; workers LISTEN and relay at once (app/workers/wakeup.py). The relay's cron every
# second stays the safety net for a wake-up lost while no worker listened.
NOTIFY_CHANNEL = "outbox_event"
MAX_KEY_LENGTH = 200


class OutboxError(ValueError):
    """An event that cannot be written: a programming error in the caller."""


async def add_event(
    session: AsyncSession, kind: str, payload: dict[str, Any], key: str | None = None
) -> int | None:
    """Write a side effect to carry out once the caller's transaction commits.

    The event's id comes back, or None when an event with this idempotency `key` exists already
    (so a retried request or a repeated call does the side effect once). The payload must be
    JSON: it crosses to another process.
    """
    if not kind or len(kind) > MAX_KIND_LENGTH:
        raise OutboxError(f"an outbox kind has 1 to {MAX_KIND_LENGTH} characters, not {kind!r}")
    if key is not None and not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise OutboxError(f"an idempotency key has 1 to {MAX_KEY_LENGTH} characters")
    added = (
        insert(OutboxEvent)
        .values(kind=kind, payload=payload, key=key)
        # A concurrent transaction adding the same key makes this wait for its outcome, so two
        # racing requests still write one event.
        .on_conflict_do_nothing(constraint="uq_outbox_event_key")
        .returning(col(OutboxEvent.id))
        .cte("added")
    )
    # One round trip: the NOTIFY is sent only for a row actually written.
    statement = select(added.c.id, func.pg_notify(NOTIFY_CHANNEL, kind))
    event_id = (await session.execute(statement)).scalar_one_or_none()
    return None if event_id is None else int(event_id)


async def claim_unrelayed(
    session: AsyncSession, kinds: Collection[str], limit: int
) -> list[OutboxEvent]:
    """Lock up to `limit` events not yet handed to the job queue, oldest first.

    Rows another relay has locked are skipped, not waited for, so relays running side by side
    take disjoint batches. Only `kinds` this worker has a job for are taken: an event written
    by a newer release waits for a worker that knows it instead of blocking the queue.
    """
    statement = (
        select(OutboxEvent)
        .where(col(OutboxEvent.relayed_at).is_(None), col(OutboxEvent.kind).in_(list(kinds)))
        .order_by(col(OutboxEvent.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(statement)).scalars().all())


async def mark_relayed(session: AsyncSession, event_ids: Sequence[int]) -> None:
    await session.execute(
        update(OutboxEvent)
        .where(col(OutboxEvent.id).in_(list(event_ids)))
        .values(relayed_at=datetime.now(UTC))
    )


async def lock_pending_event(session: AsyncSession, event_id: int, kind: str) -> OutboxEvent | None:
    """The event of `kind`, locked until the caller's transaction ends, unless it is done.

    A job holds this lock while it carries the event out and marks it done in the same
    transaction, so a second run of the same job (a retry, a duplicate enqueue) waits and then
    finds it done. None also when there is no such event.
    """
    statement = (
        select(OutboxEvent)
        .where(
            col(OutboxEvent.id) == event_id,
            col(OutboxEvent.kind) == kind,
            col(OutboxEvent.done_at).is_(None),
        )
        .with_for_update()
        # The session may hold this row from an earlier read; the lock must see the latest.
        .execution_options(populate_existing=True)
    )
    found: OutboxEvent | None = (await session.execute(statement)).scalar_one_or_none()
    return found


async def mark_done(session: AsyncSession, event_id: int) -> None:
    await session.execute(
        update(OutboxEvent).where(col(OutboxEvent.id) == event_id).values(done_at=datetime.now(UTC))
    )


async def lock_pending_events(session: AsyncSession, kind: str, limit: int) -> list[OutboxEvent]:
    """Up to `limit` events of `kind` not done yet (relayed or not), oldest first, locked
    until the caller's transaction ends; rows another job holds are skipped. For jobs that
    carry out many events at once (edge purges); mark them with `mark_done_many`."""
    statement = (
        select(OutboxEvent)
        .where(col(OutboxEvent.kind) == kind, col(OutboxEvent.done_at).is_(None))
        .order_by(col(OutboxEvent.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(statement)).scalars().all())


async def mark_done_many(session: AsyncSession, event_ids: Sequence[int]) -> None:
    await session.execute(
        update(OutboxEvent)
        .where(col(OutboxEvent.id).in_(list(event_ids)))
        .values(done_at=datetime.now(UTC))
    )
