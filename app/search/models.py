"""Search tables (owned by app/search) and the values its service takes and returns.

The index is a denormalised copy of the catalog, built by `indexing.py`: the catalog's tables
stay simple, and every search reads one table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Computed, DateTime, Integer, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlmodel import Field, SQLModel

from app.catalog.models import ProductCard


class SearchDocument(SQLModel, table=True):
    """One product as search sees it: words, facet values, price, stock and sort keys."""

    __tablename__ = "search_document"

    # The foreign key is deferred (migration 0003): delete a product, then reindex_products it.
    product_id: int = Field(foreign_key="product.id", primary_key=True)
    title: str = Field(max_length=160)
    slug: str = Field(max_length=160)
    category_id: int
    # The category and its ancestors, root first: a subtree filter is `category_path @> {id}`.
    category_path: list[int] = Field(sa_column=Column(ARRAY(Integer), nullable=False))
    min_price_minor: int
    currency: str = Field(max_length=3)
    in_stock: bool
    attributes: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default="{}")
    )
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    search_vector: str = Field(sa_column=Column(TSVECTOR, nullable=False))
    # Facet values, generated from `attributes` (migration 0007): cheap to read per row.
    material: str | None = Field(
        default=None, sa_column=Column(Text, Computed("attributes ->> 'material'", persisted=True))
    )
    colour_family: str | None = Field(
        default=None,
        sa_column=Column(Text, Computed("attributes ->> 'colour_family'", persisted=True)),
    )
    brand: str | None = Field(
        default=None, sa_column=Column(Text, Computed("attributes ->> 'brand'", persisted=True))
    )


class SearchTerm(SQLModel, table=True):
    """A word of the catalog's titles, attribute values and category names, and its stem: what
    typos are corrected towards and did-you-mean offers."""

    __tablename__ = "search_term"

    word: str = Field(primary_key=True)
    lexeme: str = Field(index=True)
    frequency: int  # how many products have the word


class SearchFacetCount(SQLModel, table=True):
    """Facet counts of a whole category (or of everything, scope 0), kept by the indexer.

    A category page without a query or filters is most of the traffic, and counting a
    department of 20,000 products on every request costs more than the rest of the page.
    """

    __tablename__ = "search_facet_count"

    scope_id: int = Field(primary_key=True)
    in_stock_only: bool = Field(primary_key=True)
    facet: str = Field(primary_key=True, max_length=20)
    value: str = Field(primary_key=True)
    n: int


@dataclass(frozen=True)
class PriceBucket:
    key: str  # as in the URL: `?price=25-50`
    low_minor: int  # inclusive
    high_minor: int | None  # exclusive; None is open-ended


# Half-open ranges, so a product at exactly a boundary (50.00) lands in exactly one bucket.
PRICE_BUCKETS = (
    PriceBucket("under-25", 0, 2_500),
    PriceBucket("25-50", 2_500, 5_000),
    PriceBucket("50-100", 5_000, 10_000),
    PriceBucket("100-200", 10_000, 20_000),
    PriceBucket("over-200", 20_000, None),
)


@dataclass(frozen=True)
class AttributeFacet:
    name: str  # the URL parameter and the facet's name
    key: str  # the key in `product.attributes`
    label: str


ATTRIBUTE_FACETS = (
    AttributeFacet("material", "material", "Material"),
    AttributeFacet("colour", "colour_family", "Colour"),
    AttributeFacet("brand", "brand", "Brand"),
)
SORTS = ("relevance", "newest", "price_asc", "price_desc")


@dataclass(frozen=True)
class SearchQuery:
    """What to look for. Facet values within one facet are alternatives (OR); facets combine
    (AND). `category_id` limits everything to that category and its subcategories."""

    q: str = ""
    category_id: int | None = None
    prices: Sequence[str] = ()  # PriceBucket keys
    attributes: Mapping[str, Sequence[str]] = field(default_factory=dict)  # by facet name
    in_stock_only: bool = False
    sort: str = "relevance"  # without a query, relevance means newest first
    page: int = 1
    page_size: int = 24
    # Return pages first_page..page (a "load more" list reloaded); None is `page` alone.
    first_page: int | None = None
    currency: str = "EUR"  # for price labels


@dataclass(frozen=True)
class FacetValue:
    value: str  # what goes in the URL
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str  # the URL parameter
    label: str
    values: list[FacetValue]


@dataclass(frozen=True)
class SearchResults:
    items: list[ProductCard]
    total: int
    page: int  # the last page in `items`
    first_page: int
    page_size: int
    facets: list[Facet]  # category (children of the scope), price, then attributes
    in_stock_count: int  # how many would remain with "in stock only", other filters applied
    searched_for: str  # the words searched, after typo correction ("" when browsing)
    corrected_from: str | None  # the shopper's words, when a typo was corrected
    did_you_mean: str | None  # when nothing matched: a nearby spelling worth a try

    @property
    def number(self) -> int:
        return self.page

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total

    def facet(self, name: str) -> Facet | None:
        return next((facet for facet in self.facets if facet.name == name), None)


@dataclass(frozen=True)
class Suggestion:
    product_id: int
    slug: str
    title: str
