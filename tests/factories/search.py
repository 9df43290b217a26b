"""Products the search tests can tell apart: a title, a description, attributes, a price."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories.catalog import MadeProduct, make_product

_age = itertools.count(1)


async def make_category_under(session: AsyncSession, parent_id: int | None, name: str) -> int:
    """A category (below `parent_id`, or at the top) with a slug made from its name."""
    slug = f"{name.lower().replace(' ', '-')}-{next(_age)}"
    row = await session.execute(
        text(
            "INSERT INTO category (parent_id, slug, name) VALUES (:parent, :slug, :name) "
            "RETURNING id"
        ),
        {"parent": parent_id, "slug": slug, "name": name},
    )
    return int(row.scalar_one())


async def make_searchable_product(
    session: AsyncSession,
    title: str,
    *,
    description: str = "Made by a test.",
    attributes: Mapping[str, str] | None = None,
    price_minor: int = 1250,
    stock: tuple[int, ...] = (10,),
    category_id: int | None = None,
) -> MadeProduct:
    """A product as make_product makes it, with its own description and attributes; each one
    made is a minute older than the one before, so "newest" order is the order of making."""
    made = await make_product(
        session, title=title, stock=stock, price_minor=price_minor, category_id=category_id
    )
    await session.execute(
        text(
            "UPDATE product SET description = :description, "
            "attributes = CAST(:attributes AS jsonb), created_at = :created WHERE id = :id"
        ),
        {
            "id": made.id,
            "description": description,
            "attributes": json.dumps(dict(attributes or {})),
            "created": datetime(2026, 1, 1, tzinfo=UTC) - timedelta(minutes=next(_age)),
        },
    )
    return made
