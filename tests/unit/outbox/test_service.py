"""add_event: written with the caller's transaction, never on its own, once per key."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import create_sessionmaker
from app.outbox.service import OutboxError, add_event
from app.settings import Settings
from tests.factories.db import session_for
from tests.factories.outbox import count_events

pytestmark = pytest.mark.anyio


async def test_an_event_added_in_a_rolled_back_transaction_leaves_nothing(
    settings: Settings,
) -> None:
    engine = create_async_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            await session.begin()
            assert await add_event(session, "email", {"to": "a@shop.test"}) is not None
            await session.rollback()
    finally:
        await engine.dispose()

    async with session_for(settings.database_url) as session:
        assert await count_events(session) == 0


async def test_a_committed_event_is_kept(settings: Settings) -> None:
    async with session_for(settings.database_url) as session:
        event_id = await add_event(session, "email", {"to": "a@shop.test"})

    async with session_for(settings.database_url) as session:
        assert await count_events(session, "email") == 1
    assert isinstance(event_id, int)


async def test_a_repeated_key_adds_one_event(settings: Settings) -> None:
    async with session_for(settings.database_url) as session:
        first = await add_event(session, "email", {"n": 1}, key="order-7-confirmation")
        again_in_the_same_transaction = await add_event(
            session, "email", {"n": 2}, key="order-7-confirmation"
        )
    async with session_for(settings.database_url) as session:
        again_later = await add_event(session, "email", {"n": 3}, key="order-7-confirmation")

    assert first is not None
    assert again_in_the_same_transaction is None
    assert again_later is None
    async with session_for(settings.database_url) as session:
        assert await count_events(session) == 1


async def test_events_without_a_key_never_collide(settings: Settings) -> None:
    async with session_for(settings.database_url) as session:
        ids = [await add_event(session, "email", {"n": n}) for n in range(3)]

    assert len(set(ids)) == 3
    assert None not in ids


@pytest.mark.parametrize(
    ("kind", "key"),
    [("", None), ("k" * 51, None), ("email", ""), ("email", "k" * 201)],
    ids=["empty-kind", "long-kind", "empty-key", "long-key"],
)
async def test_a_malformed_event_is_refused(settings: Settings, kind: str, key: str | None) -> None:
    async with session_for(settings.database_url) as session:
        with pytest.raises(OutboxError):
            await add_event(session, kind, {}, key=key)
