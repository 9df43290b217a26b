"""Catalog reads: home, category and product pages. Free of HTTP; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import (
    CategoryView,
    ImageView,
    Page,
    ProductCard,
    ProductDetail,
    VariantView,
)
from app.inventory import service as inventory

_CARD_COLUMNS = """
    p.id, p.slug, p.title, price.min_price, price.currency, price.variant_ids,
    img.stem, img.alt, img.width, img.height
"""
_CARD_JOINS = """
    CROSS JOIN LATERAL (
        SELECT min(v.price_minor) AS min_price, min(v.currency) AS currency,
               array_agg(v.id) AS variant_ids
        FROM product_variant v WHERE v.product_id = p.id
    ) price
    LEFT JOIN LATERAL (
        SELECT i.stem, i.alt, i.width, i.height FROM product_image i
        WHERE i.product_id = p.id ORDER BY i.position LIMIT 1
    ) img ON true
"""


class CatalogNotFound(LookupError):
    """The category or product asked for does not exist."""


async def _cards(session: AsyncSession, rows: Sequence[Any]) -> list[ProductCard]:
    variant_ids = [vid for row in rows for vid in (row.variant_ids or [])]
    stock = await inventory.stock_for_variants(session, variant_ids)
    return [
        ProductCard(
            id=row.id,
            slug=row.slug,
            title=row.title,
            price_minor=row.min_price or 0,
            currency=row.currency or "",
            in_stock=any(stock.get(vid, 0) > 0 for vid in (row.variant_ids or [])),
            image=ImageView(row.stem, row.alt, row.width, row.height) if row.stem else None,
        )
        for row in rows
    ]


async def list_featured_products(session: AsyncSession, limit: int = 12) -> list[ProductCard]:
    rows = await session.execute(
        text(
            f"SELECT {_CARD_COLUMNS} FROM product p {_CARD_JOINS} "
            "WHERE p.is_featured ORDER BY p.id LIMIT :limit"
        ),
        {"limit": limit},
    )
    return await _cards(session, rows.all())


async def list_top_categories(session: AsyncSession) -> list[CategoryView]:
    rows = await session.execute(
        text(
            "SELECT id, slug, name, description, parent_id FROM category "
            "WHERE parent_id IS NULL ORDER BY position, name"
        )
    )
    return [CategoryView(*row) for row in rows.all()]


async def get_category(session: AsyncSession, slug: str) -> CategoryView:
    row = (
        await session.execute(
            text("SELECT id, slug, name, description, parent_id FROM category WHERE slug = :slug"),
            {"slug": slug},
        )
    ).first()
    if row is None:
        raise CatalogNotFound(slug)
    return CategoryView(*row)


async def list_subcategories(session: AsyncSession, category_id: int) -> list[CategoryView]:
    rows = await session.execute(
        text(
            "SELECT id, slug, name, description, parent_id FROM category "
            "WHERE parent_id = :id ORDER BY position, name"
        ),
        {"id": category_id},
    )
    return [CategoryView(*row) for row in rows.all()]


async def list_breadcrumbs(session: AsyncSession, category_id: int) -> list[CategoryView]:
    """The category and its ancestors, root first."""
    rows = await session.execute(
        text(
            """
            WITH RECURSIVE up(id, slug, name, description, parent_id, depth) AS (
                SELECT id, slug, name, description, parent_id, 0 FROM category WHERE id = :id
                UNION ALL
                SELECT c.id, c.slug, c.name, c.description, c.parent_id, up.depth + 1
                FROM category c JOIN up ON c.id = up.parent_id
            )
            SELECT id, slug, name, description, parent_id FROM up ORDER BY depth DESC
            """
        ),
        {"id": category_id},
    )
    return [CategoryView(*row) for row in rows.all()]


async def list_category_products(
    session: AsyncSession, category_id: int, page: int, page_size: int
) -> Page:
    """Products of a category and all its subcategories, newest first."""
    tree = """
        WITH RECURSIVE tree(id) AS (
            SELECT id FROM category WHERE id = :id
            UNION ALL SELECT c.id FROM category c JOIN tree ON c.parent_id = tree.id
        )
    """
    params = {"id": category_id, "limit": page_size, "offset": (page - 1) * page_size}
    total = (
        await session.execute(
            text(f"{tree} SELECT count(*) FROM product WHERE category_id IN (SELECT id FROM tree)"),
            params,
        )
    ).scalar_one()
    rows = await session.execute(
        text(
            f"{tree} SELECT {_CARD_COLUMNS} FROM product p {_CARD_JOINS} "
            "WHERE p.category_id IN (SELECT id FROM tree) "
            "ORDER BY p.created_at DESC, p.id DESC LIMIT :limit OFFSET :offset"
        ),
        params,
    )
    items = await _cards(session, rows.all())
    return Page(items=items, number=page, size=page_size, total=total)


_PRODUCT_DETAIL = text(
    """
    SELECT p.id, p.slug, p.title, p.description, p.attributes, p.category_id,
        (SELECT coalesce(json_agg(json_build_array(v.id, v.sku, v.title, v.options,
                                                   v.price_minor, v.currency)
                                  ORDER BY v.position, v.id), '[]')
         FROM product_variant v WHERE v.product_id = p.id) AS variants,
        (SELECT coalesce(json_agg(json_build_array(i.stem, i.alt, i.width, i.height)
                                  ORDER BY i.position, i.id), '[]')
         FROM product_image i WHERE i.product_id = p.id) AS images,
        (WITH RECURSIVE up(id, slug, name, description, parent_id, depth) AS (
             SELECT c.id, c.slug, c.name, c.description, c.parent_id, 0
             FROM category c WHERE c.id = p.category_id
             UNION ALL
             SELECT c.id, c.slug, c.name, c.description, c.parent_id, up.depth + 1
             FROM category c JOIN up ON c.id = up.parent_id)
         SELECT json_agg(json_build_array(id, slug, name, description, parent_id)
                         ORDER BY depth DESC) FROM up) AS breadcrumbs
    FROM product p WHERE p.slug = :slug
    """
)


async def get_product(session: AsyncSession, slug: str) -> ProductDetail:
    """A product with its variants, images and category trail in one round trip, plus stock."""
    row = (await session.execute(_PRODUCT_DETAIL, {"slug": slug})).first()
    if row is None:
        raise CatalogNotFound(slug)
    stock = await inventory.stock_for_variants(session, [v[0] for v in row.variants])
    breadcrumbs = [CategoryView(*crumb) for crumb in row.breadcrumbs]
    return ProductDetail(
        id=row.id,
        slug=row.slug,
        title=row.title,
        description=row.description,
        attributes=row.attributes,
        category=breadcrumbs[-1],
        breadcrumbs=breadcrumbs,
        variants=[
            VariantView(id_, sku, title, options, price, currency, stock[id_])
            for id_, sku, title, options, price, currency in row.variants
        ],
        images=[ImageView(*image) for image in row.images],
    )
