"""Alembic environment: async engine, metadata from every domain's models."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import app.accounts.models
import app.cart.models
import app.catalog.models
import app.inventory.models
import app.orders.models
import app.outbox.models
import app.payments.models
import app.search.models  # noqa: F401  (registers the tables on the metadata)
from app.settings import Settings

target_metadata = SQLModel.metadata


def _database_url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    return url or Settings.from_env().database_url


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_async_engine(_database_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
