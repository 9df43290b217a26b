"""Factories for catalog rows: a product with variants and stock, in one call."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_counter = itertools.count(1)


@dataclass(frozen=True)
class MadeProduct:
    id: int
    slug: str
    variant_ids: list[int]


async def make_category(session: AsyncSession, name: str = "Test things") -> int:
    number = next(_counter)
    row = await session.execute(
        text("INSERT INTO category (slug, name) VALUES (:slug, :name) RETURNING id"),
        {"slug": f"test-things-{number}", "name": name},
    )
    return int(row.scalar_one())


async def make_product(
    session: AsyncSession,
    *,
    title: str = "Test Mug",
    stock: tuple[int, ...] = (10,),
    price_minor: int = 1250,
    currency: str = "EUR",
    category_id: int | None = None,
    featured: bool = False,
    options: Sequence[Mapping[str, str]] = (),
    prices: Sequence[int] = (),
    weight_grams: int = 400,
    weights: Sequence[int] = (),
) -> MadeProduct:
    """A product with one variant per entry of `stock`, each with that many units on hand.

    `options`, `prices` and `weights` (grams), when given, hold one entry per variant too (in
    `stock` order). A mug-like 400 g by default.
    """
    number = next(_counter)
    category = category_id or await make_category(session)
    slug = f"test-product-{number}"
    product_id = (
        await session.execute(
            text(
                "INSERT INTO product (slug, title, description, category_id, is_featured) "
                "VALUES (:slug, :title, 'Made by a test.', :category, :featured) RETURNING id"
            ),
            {"slug": slug, "title": title, "category": category, "featured": featured},
        )
    ).scalar_one()
    variant_ids = []
    for position, on_hand in enumerate(stock):
        variant_id = (
            await session.execute(
                text(
                    "INSERT INTO product_variant (product_id, sku, title, options, price_minor, "
                    "currency, position, weight_grams) VALUES (:product, :sku, :title, "
                    "CAST(:options AS jsonb), :price, :currency, :position, :weight) RETURNING id"
                ),
                {
                    "product": product_id,
                    "sku": f"TEST-{number}-{position}",
                    "title": (
                        " / ".join(options[position].values())
                        if options
                        else f"Option {position + 1}"
                    ),
                    "options": json.dumps(dict(options[position]) if options else {}),
                    "price": prices[position] if prices else price_minor,
                    "currency": currency,
                    "position": position,
                    "weight": weights[position] if weights else weight_grams,
                },
            )
        ).scalar_one()
        await session.execute(
            text("INSERT INTO stock_level (variant_id, on_hand) VALUES (:id, :on_hand)"),
            {"id": variant_id, "on_hand": on_hand},
        )
        variant_ids.append(int(variant_id))
    return MadeProduct(int(product_id), slug, variant_ids)
