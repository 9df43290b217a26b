from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.catalog.seed import SeedError, SeedReport, seed_catalog

pytestmark = pytest.mark.anyio

PRODUCTS = 150
TABLES = {
    "category": "id",
    "product": "id",
    "product_variant": "id",
    "product_image": "id",
    "stock_level": "variant_id",
    "collection": "id",
    "collection_product": "collection_id, product_id",
}


async def _seed(url: str, media_dir: Path, seed: int = 1) -> tuple[SeedReport, dict[str, str]]:
    """Seed the database, read a checksum of every table, then empty it for the next seed."""
    engine = create_async_engine(url)
    try:
        report = await seed_catalog(engine, products=PRODUCTS, media_dir=media_dir, seed=seed)
        async with engine.begin() as connection:
            checksums = {
                table: (
                    await connection.execute(
                        text(f"SELECT md5(string_agg(t::text, '|' ORDER BY {key})) FROM {table} t")
                    )
                ).scalar_one()
                for table, key in TABLES.items()
            }
            await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()
    return report, checksums


def _file_digests(directory: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.glob("products/*"))
    }


async def test_same_seed_gives_identical_rows_and_image_files(
    empty_database_url: str, tmp_path: Path
) -> None:
    first_report, first = await _seed(empty_database_url, tmp_path / "first")
    second_report, second = await _seed(empty_database_url, tmp_path / "second")

    assert first == second
    assert first_report.products == second_report.products == PRODUCTS
    assert first_report.variants == second_report.variants >= PRODUCTS
    assert first_report.files_written == second_report.files_written > 0
    files = _file_digests(tmp_path / "first")
    assert files == _file_digests(tmp_path / "second")
    assert {name.rsplit(".", 1)[1] for name in files} == {"webp", "jpg"}


async def test_another_seed_gives_another_catalog(empty_database_url: str, tmp_path: Path) -> None:
    first, one = await _seed(empty_database_url, tmp_path, seed=1)
    second, two = await _seed(empty_database_url, tmp_path, seed=2)

    assert first.files_written > 0
    assert second.files_written == 0  # the designs are shared and already on disk
    assert one["category"] == two["category"]
    assert one["product"] != two["product"]
    assert one["product_variant"] != two["product_variant"]


async def test_seeding_a_catalog_that_has_products_is_refused(
    empty_database_url: str, tmp_path: Path
) -> None:
    engine = create_async_engine(empty_database_url)
    try:
        await seed_catalog(engine, products=10, media_dir=tmp_path)

        with pytest.raises(SeedError, match="already has products"):
            await seed_catalog(engine, products=10, media_dir=tmp_path)

        async with engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM product"))
        assert count == 10
    finally:
        await engine.dispose()


async def test_product_one_has_variants_in_stock_and_images_on_disk(
    empty_database_url: str, tmp_path: Path
) -> None:
    engine = create_async_engine(empty_database_url)
    try:
        await seed_catalog(engine, products=20, media_dir=tmp_path, currency="GBP")
        async with engine.connect() as connection:
            stock = (
                await connection.execute(
                    text(
                        "SELECT v.currency, s.on_hand FROM product_variant v "
                        "JOIN stock_level s ON s.variant_id = v.id WHERE v.product_id = 1"
                    )
                )
            ).all()
            stems = (
                await connection.scalars(
                    text("SELECT stem FROM product_image WHERE product_id = 1")
                )
            ).all()
            featured = (
                await connection.scalars(text("SELECT id FROM product WHERE is_featured"))
            ).all()
    finally:
        await engine.dispose()

    assert len(stock) >= 2
    assert any(on_hand > 0 for _, on_hand in stock)
    assert {currency for currency, _ in stock} == {"GBP"}
    assert stems
    for stem in stems:
        for width in (320, 640, 960):
            assert (tmp_path / f"{stem}-{width}.webp").is_file()
            assert (tmp_path / f"{stem}-{width}.jpg").is_file()
    assert set(range(1, 13)) <= set(featured)
