"""What `edgecart dev` does to a database before serving it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.commands import seed_if_empty
from app.settings import Settings

pytestmark = pytest.mark.anyio


async def _counts(database_url: str) -> tuple[int, int]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            products = (await connection.execute(text("SELECT count(*) FROM product"))).scalar_one()
            indexed = (
                await connection.execute(text("SELECT count(*) FROM search_document"))
            ).scalar_one()
            return int(products), int(indexed)
    finally:
        await engine.dispose()


async def test_a_catalog_seeded_before_the_search_index_gets_indexed(settings: Settings) -> None:
    engine = create_async_engine(settings.database_url)
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE search_document, search_facet_count"))
    await engine.dispose()

    await seed_if_empty(settings, products=5)

    products, indexed = await _counts(settings.database_url)
    assert products == 60  # the seeded catalog was kept, not reseeded
    assert indexed == products


async def test_an_empty_database_is_seeded_and_indexed(
    settings: Settings, empty_database_url: str
) -> None:
    empty = replace(settings, database_url=empty_database_url)

    await seed_if_empty(empty, products=7)

    assert await _counts(empty_database_url) == (7, 7)
