"""A session on a test's own database, for factories called outside the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.db import create_sessionmaker, transaction


@asynccontextmanager
async def session_for(database_url: str) -> AsyncIterator[AsyncSession]:
    """One committed transaction on `database_url`; the engine is disposed afterwards."""
    engine = create_async_engine(database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            yield session
    finally:
        await engine.dispose()
