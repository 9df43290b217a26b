"""Catalog reads for home, category and product pages, and the few writes staff make (a price,
a title, a category's or a collection's words, what the home page features). Every write queues
an edge purge of the pages that show what it changed, in the same transaction. Free of HTTP;
never commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import (
    CategoryNode,
    CategoryView,
    CollectionView,
    ImageView,
    Page,
    ProductCard,
    ProductDetail,
    VariantView,
)
from app.edge import service as edge
from app.inventory import service as inventory

_CARD_COLUMNS = """
    p.id, p.slug, p.title, price.min_price, price.compare_at, price.currency, price.variant_ids,
    img.stem, img.alt, img.width, img.height
"""
_CARD_JOINS = """
    CROSS JOIN LATERAL (
        SELECT min(v.price_minor) AS min_price, min(v.currency) AS currency,
               (array_agg(v.compare_at_minor ORDER BY v.price_minor, v.id))[1] AS compare_at,
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
            compare_at_minor=row.compare_at,
            currency=row.currency or "",
            in_stock=any(stock.get(vid, 0) > 0 for vid in (row.variant_ids or [])),
            image=ImageView(row.stem, row.alt, row.width, row.height) if row.stem else None,
            variant_ids=tuple(sorted(row.variant_ids or ())),
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


async def list_cards(session: AsyncSession, product_ids: Sequence[int]) -> list[ProductCard]:
    """Cards for these products in the order given (search results); unknown ids are skipped."""
    if not product_ids:
        return []
    rows = await session.execute(
        text(
            f"SELECT {_CARD_COLUMNS} "
            "FROM unnest(CAST(:ids AS integer[])) WITH ORDINALITY AS wanted(id, position) "
            f"JOIN product p ON p.id = wanted.id {_CARD_JOINS} ORDER BY wanted.position"
        ),
        {"ids": list(product_ids)},
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
                                                   v.price_minor, v.currency, v.compare_at_minor)
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
            VariantView(id_, sku, title, options, price, currency, stock[id_], compare_at)
            for id_, sku, title, options, price, currency, compare_at in row.variants
        ],
        images=[ImageView(*image) for image in row.images],
    )


async def list_collections(session: AsyncSession) -> list[CollectionView]:
    rows = await session.execute(
        text("SELECT id, slug, title, description, rule FROM collection ORDER BY position, id")
    )
    return [CollectionView(*row) for row in rows.all()]


async def get_collection(session: AsyncSession, slug: str) -> CollectionView:
    row = (
        await session.execute(
            text("SELECT id, slug, title, description, rule FROM collection WHERE slug = :slug"),
            {"slug": slug},
        )
    ).first()
    if row is None:
        raise CatalogNotFound(slug)
    return CollectionView(*row)


# How each rule picks and orders its products; hand-picked collections keep staff's order.
NEWEST_LIMIT = 48
_COLLECTION_MEMBERS = {
    "newest": (
        f"SELECT id, row_number() OVER (ORDER BY created_at DESC, id DESC) AS rank FROM product "
        f"ORDER BY created_at DESC, id DESC LIMIT {NEWEST_LIMIT}"
    ),
    "on_sale": (
        "SELECT p.id, row_number() OVER (ORDER BY p.created_at DESC, p.id DESC) AS rank "
        "FROM product p WHERE EXISTS (SELECT 1 FROM product_variant v "
        "WHERE v.product_id = p.id AND v.compare_at_minor IS NOT NULL)"
    ),
    None: (
        "SELECT product_id AS id, position AS rank FROM collection_product "
        "WHERE collection_id = :collection"
    ),
}


async def list_collection_products(
    session: AsyncSession, collection: CollectionView, page: int, page_size: int
) -> Page:
    members = _COLLECTION_MEMBERS[collection.rule]
    params = {"collection": collection.id, "limit": page_size, "offset": (page - 1) * page_size}
    total = (
        await session.execute(text(f"SELECT count(*) FROM ({members}) m"), params)
    ).scalar_one()
    rows = await session.execute(
        text(
            f"SELECT {_CARD_COLUMNS} FROM ({members}) m JOIN product p ON p.id = m.id "
            f"{_CARD_JOINS} ORDER BY m.rank, p.id LIMIT :limit OFFSET :offset"
        ),
        params,
    )
    return Page(items=await _cards(session, rows.all()), number=page, size=page_size, total=total)


# The orders `list_products` offers; ties are broken by id so pages never overlap.
PRODUCT_SORTS = {
    "newest": "p.created_at DESC, p.id DESC",
    "price_asc": "price.min_price ASC NULLS LAST, p.id ASC",
    "price_desc": "price.min_price DESC NULLS LAST, p.id DESC",
    "title": "p.title ASC, p.id ASC",
}


async def list_products(
    session: AsyncSession,
    *,
    category_ids: Sequence[int] | None,
    page: int,
    page_size: int,
    sort: str = "newest",
) -> Page:
    """Products in any of `category_ids` (all products when None), in a `PRODUCT_SORTS` order."""
    order = PRODUCT_SORTS[sort]
    where = "" if category_ids is None else "WHERE p.category_id = ANY(:ids)"
    params = {
        "ids": list(category_ids or []),
        "limit": page_size,
        "offset": (page - 1) * page_size,
    }
    total = (
        await session.execute(text(f"SELECT count(*) FROM product p {where}"), params)
    ).scalar_one()
    rows = await session.execute(
        text(
            f"SELECT {_CARD_COLUMNS} FROM product p {_CARD_JOINS} {where} "
            f"ORDER BY {order} LIMIT :limit OFFSET :offset"
        ),
        params,
    )
    return Page(items=await _cards(session, rows.all()), number=page, size=page_size, total=total)


async def list_category_subtree(session: AsyncSession, category_id: int) -> list[int]:
    """The ids of a category and of every category below it."""
    rows = await session.execute(
        text(
            """
            WITH RECURSIVE tree(id) AS (
                SELECT id FROM category WHERE id = :id
                UNION ALL SELECT c.id FROM category c JOIN tree ON c.parent_id = tree.id
            )
            SELECT id FROM tree
            """
        ),
        {"id": category_id},
    )
    return list(rows.scalars().all())


async def list_category_tree(session: AsyncSession) -> list[CategoryNode]:
    """Every category, nested under its parent, each level in position then name order."""
    rows = await session.execute(
        text("SELECT id, slug, name, description, parent_id FROM category ORDER BY position, name")
    )
    nodes = {row.id: CategoryNode(CategoryView(*row), []) for row in rows.all()}
    roots: list[CategoryNode] = []
    for node in nodes.values():
        parent = nodes.get(node.category.parent_id or 0)
        (parent.children if parent else roots).append(node)
    return roots


async def get_product_by_id(session: AsyncSession, product_id: int) -> ProductDetail:
    """The same as `get_product`, found by id (one small extra lookup; slugs are the fast path)."""
    slug = (
        await session.execute(text("SELECT slug FROM product WHERE id = :id"), {"id": product_id})
    ).scalar_one_or_none()
    if slug is None:
        raise CatalogNotFound(str(product_id))
    return await get_product(session, slug)


@dataclass(frozen=True)
class VariantOffer:
    """What a cart or an order needs to know of a variant: what it is and what it costs now."""

    variant_id: int
    product_id: int
    product_slug: str
    product_title: str
    variant_title: str
    sku: str
    price_minor: int
    currency: str
    image: ImageView | None
    weight_grams: int  # one unit, for weight-banded shipping


async def list_variant_offers(
    session: AsyncSession, variant_ids: Sequence[int]
) -> dict[int, VariantOffer]:
    """The variants that still exist among `variant_ids`, by id, with their first image."""
    if not variant_ids:
        return {}
    rows = await session.execute(
        text(
            "SELECT v.id, p.id, p.slug, p.title, v.title, v.sku, v.price_minor, v.currency, "
            "i.stem, i.alt, i.width, i.height, v.weight_grams "
            "FROM product_variant v JOIN product p ON p.id = v.product_id "
            "LEFT JOIN LATERAL (SELECT stem, alt, width, height FROM product_image "
            "  WHERE product_id = p.id ORDER BY position, id LIMIT 1) i ON true "
            "WHERE v.id = ANY(:ids)"
        ),
        {"ids": list(variant_ids)},
    )
    offers = {}
    for row in rows.all():
        image = ImageView(row[8], row[9], row[10], row[11]) if row[8] else None
        offers[row[0]] = VariantOffer(
            variant_id=row[0], product_id=row[1], product_slug=row[2], product_title=row[3],
            variant_title=row[4], sku=row[5], price_minor=row[6], currency=row[7], image=image,
            weight_grams=row[12],
        )  # fmt: skip
    return offers


# --- writes: each purges the pages that show what it changed --------------------------------


async def change_price(
    session: AsyncSession, variant_id: int, price_minor: int, compare_at_minor: int | None = None
) -> None:
    """A variant's price (and its "was" price, None when not on sale) from now on. Every page
    showing the product is purged: its own, and every listing with its card."""
    if price_minor < 0 or (compare_at_minor is not None and compare_at_minor < 0):
        raise ValueError("prices are not negative")
    product_id = (
        await session.execute(
            text(
                "UPDATE product_variant SET price_minor = :price, compare_at_minor = :was "
                "WHERE id = :id RETURNING product_id"
            ),
            {"price": price_minor, "was": compare_at_minor, "id": variant_id},
        )
    ).scalar_one_or_none()
    if product_id is None:
        raise CatalogNotFound(f"variant {variant_id}")
    # A sale price can move the product into or out of a rule-based collection ("Sale").
    ruled = await session.execute(text("SELECT id FROM collection WHERE rule IS NOT NULL"))
    keys = [f"product-{product_id}", f"variant-{variant_id}"]
    await edge.queue_purge(session, keys + [f"collection-{c}" for c in ruled.scalars()])


async def _update_row(
    session: AsyncSession, table: str, row_id: int, changes: Mapping[str, object]
) -> bool:
    """Set the given columns (those not None) of one row; False when nothing was to change.
    `table` and the column names come from this module, never from input."""
    values = {name: value for name, value in changes.items() if value is not None}
    if not values:
        return False
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    found = await session.execute(
        text(f"UPDATE {table} SET {assignments} WHERE id = :id RETURNING id"),
        {**values, "id": row_id},
    )
    if found.scalar_one_or_none() is None:
        raise CatalogNotFound(f"{table} {row_id}")
    return True


async def update_product(
    session: AsyncSession, product_id: int, *, title: str | None = None,
    description: str | None = None, featured: bool | None = None,
) -> None:  # fmt: skip
    """A product's title, description, or whether the home page features it."""
    changes = {"title": title, "description": description, "is_featured": featured}
    if await _update_row(session, "product", product_id, changes):
        home = ["home"] if featured is not None else []
        await edge.queue_purge(session, [f"product-{product_id}", *home])


async def update_category(
    session: AsyncSession, category_id: int, *, name: str | None = None,
    description: str | None = None,
) -> None:  # fmt: skip
    """A category's name or description: its pages, its children's and products' breadcrumbs,
    and the home page's departments all carry `category-<id>`."""
    changes = {"name": name, "description": description}
    if await _update_row(session, "category", category_id, changes):
        await edge.queue_purge(session, [f"category-{category_id}"])


async def update_collection(
    session: AsyncSession, collection_id: int, *, title: str | None = None,
    description: str | None = None,
) -> None:  # fmt: skip
    """A collection's title or description: its pages and the home page."""
    changes = {"title": title, "description": description}
    if await _update_row(session, "collection", collection_id, changes):
        await edge.queue_purge(session, [f"collection-{collection_id}", "home"])
