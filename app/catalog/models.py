"""Catalog tables (owned by app/catalog) and the read models its service returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class Category(SQLModel, table=True):
    __tablename__ = "category"

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="category.id", index=True)
    slug: str = Field(max_length=120, unique=True)
    name: str = Field(max_length=120)
    description: str = Field(default="")
    position: int = Field(default=0)


class Product(SQLModel, table=True):
    __tablename__ = "product"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=160, unique=True)
    title: str = Field(max_length=160)
    description: str = Field(default="")
    category_id: int = Field(foreign_key="category.id", index=True)
    attributes: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    is_featured: bool = Field(default=False, index=True)
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class Variant(SQLModel, table=True):
    """One purchasable option of a product (size, colour…), with its own SKU and price."""

    __tablename__ = "product_variant"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    sku: str = Field(max_length=64, unique=True)
    title: str = Field(max_length=120)
    options: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    price_minor: int
    # The "was" price of a sale; null when the variant is not on sale.
    compare_at_minor: int | None = Field(default=None)
    currency: str = Field(max_length=3)
    position: int = Field(default=0)
    # Shipping weight of one unit, packed; weight-banded shipping rates add these up.
    weight_grams: int = Field(default=500, ge=0)


class ProductImage(SQLModel, table=True):
    """An image of a product; the files are `<stem>-<width>.webp` and `.jpg` under MEDIA_DIR."""

    __tablename__ = "product_image"

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    position: int = Field(default=0)
    stem: str = Field(max_length=120)
    alt: str = Field(max_length=200)
    width: int
    height: int


class Collection(SQLModel, table=True):
    """A curated list of products: hand-picked (rule is null) or by a rule."""

    __tablename__ = "collection"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    title: str = Field(max_length=120)
    description: str = Field(default="")
    # "newest": the newest products; "on_sale": every product with a compare-at price.
    rule: str | None = Field(default=None, max_length=20)
    position: int = Field(default=0)


class CollectionProduct(SQLModel, table=True):
    """A hand-picked product of a collection, in the order staff chose."""

    __tablename__ = "collection_product"

    collection_id: int = Field(foreign_key="collection.id", primary_key=True)
    product_id: int = Field(foreign_key="product.id", primary_key=True)
    position: int = Field(default=0)


@dataclass(frozen=True)
class ImageView:
    stem: str
    alt: str
    width: int
    height: int


@dataclass(frozen=True)
class ProductCard:
    id: int
    slug: str
    title: str
    price_minor: int
    currency: str
    in_stock: bool
    image: ImageView | None
    compare_at_minor: int | None = None
    variant_ids: tuple[int, ...] = ()

    @property
    def on_sale(self) -> bool:
        return self.compare_at_minor is not None and self.compare_at_minor > self.price_minor

    @property
    def surrogate_keys(self) -> list[str]:
        """What a page showing this card names for the edge: its price and stock come from
        the product's variants, so a change of either purges the page (docs/edge.md)."""
        return [f"product-{self.id}", *(f"variant-{v}" for v in self.variant_ids)]


@dataclass(frozen=True)
class CategoryView:
    id: int
    slug: str
    name: str
    description: str
    parent_id: int | None


@dataclass(frozen=True)
class CollectionView:
    id: int
    slug: str
    title: str
    description: str
    rule: str | None


@dataclass(frozen=True)
class VariantView:
    id: int
    sku: str
    title: str
    options: dict[str, Any]
    price_minor: int
    currency: str
    stock: int
    compare_at_minor: int | None = None


@dataclass(frozen=True)
class ProductDetail:
    id: int
    slug: str
    title: str
    description: str
    attributes: dict[str, Any]
    category: CategoryView
    breadcrumbs: list[CategoryView]
    variants: list[VariantView]
    images: list[ImageView]

    @property
    def surrogate_keys(self) -> list[str]:
        """The product, each of its variants and every category of its trail."""
        return [
            f"product-{self.id}",
            *(f"variant-{v.id}" for v in self.variants),
            *(f"category-{c.id}" for c in self.breadcrumbs),
        ]


@dataclass(frozen=True)
class Page:
    items: list[ProductCard]
    number: int
    size: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.total

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class CategoryNode:
    """A category with its subcategories, for navigation and the API's category tree."""

    category: CategoryView
    children: list[CategoryNode]
