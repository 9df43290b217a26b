"""Catalog reads for the XML sitemaps: slugs and last-modified times, one keyset query per file.

Product sitemap files cover fixed id ranges (file n holds ids `(n-1)*size + 1 … n*size`), so a
product stays in the same file for ever and each file is one primary-key range scan, however
large the catalog. Files whose range holds no product (after deletions) are not listed.

Times come back as W3C datetimes in UTC (`2025-01-01T00:00:00+00:00`), formatted by PostgreSQL:
at 50,000 rows a file that is the costliest part of the work, and it is better spent there than
in the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

W3C_UTC = """to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')"""


@dataclass(frozen=True)
class SitemapFile:
    number: int
    lastmod: str


@dataclass(frozen=True)
class SitemapEntry:
    slug: str
    lastmod: str | None


async def list_product_sitemap_files(session: AsyncSession, page_size: int) -> list[SitemapFile]:
    """The product sitemap files that hold at least one product, with their newest change."""
    # One short index range read per file, rather than a sort of the whole table by file.
    newest = W3C_UTC.format("max(created_at)")
    rows = await session.execute(
        text(
            f"""
            SELECT number, lastmod FROM (
                SELECT n AS number,
                       (SELECT {newest} FROM product
                        WHERE id > (n - 1) * :size AND id <= n * :size) AS lastmod
                FROM generate_series(1, (SELECT (max(id) - 1) / :size + 1 FROM product)) AS n
            ) files
            WHERE lastmod IS NOT NULL ORDER BY number
            """
        ),
        {"size": page_size},
    )
    return [SitemapFile(row.number, row.lastmod) for row in rows.all()]


async def list_sitemap_products(
    session: AsyncSession, number: int, page_size: int
) -> list[SitemapEntry]:
    """The products of sitemap file `number` (from 1), by id."""
    rows = await session.execute(
        text(
            f"SELECT slug, {W3C_UTC.format('created_at')} FROM product "
            "WHERE id > :low AND id <= :high ORDER BY id"
        ),
        {"low": (number - 1) * page_size, "high": number * page_size},
    )
    return [SitemapEntry(slug, lastmod) for slug, lastmod in rows.all()]


async def list_sitemap_categories(session: AsyncSession) -> list[SitemapEntry]:
    """Every category, with the newest product anywhere beneath it as its last change."""
    rows = await session.execute(
        text(
            f"""
            WITH RECURSIVE below(root, id) AS (
                SELECT id, id FROM category
                UNION ALL
                SELECT below.root, c.id FROM category c JOIN below ON c.parent_id = below.id
            ), newest AS (
                SELECT category_id, max(created_at) AS at FROM product GROUP BY category_id
            )
            SELECT c.slug, {W3C_UTC.format("max(newest.at)")} AS lastmod
            FROM category c
            JOIN below ON below.root = c.id
            LEFT JOIN newest ON newest.category_id = below.id
            GROUP BY c.id, c.slug
            ORDER BY c.id
            """
        )
    )
    return [SitemapEntry(slug, lastmod) for slug, lastmod in rows.all()]
