"""A SearchQuery as SQL conditions on `search_document d`, with bound parameters.

SQL is built only from constant fragments chosen here; every value is a bound parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.search.models import ATTRIBUTE_FACETS, PRICE_BUCKETS, SearchQuery

BUCKETS = {bucket.key: bucket for bucket in PRICE_BUCKETS}
FACETS_BY_NAME = {facet.name: facet for facet in ATTRIBUTE_FACETS}


@dataclass
class Filters:
    """`base` narrows what is counted at all (scope, words, stock); `selected` holds each
    chosen facet's condition, which the other facets' counts apply and its own does not.
    `checks` says the same as `selected` for one row already read: `selected` is written for
    the indexes (jsonb containment, GIN), `checks` for speed per row (plain columns)."""

    params: dict[str, Any] = field(default_factory=dict)
    base: list[str] = field(default_factory=list)
    selected: dict[str, str] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)
    has_words: bool = False

    def where(self, *extra: str) -> str:
        return " AND ".join([*self.base, *extra]) or "true"

    def all_selected(self, *, but: str | None = None) -> str:
        """Every chosen facet's condition (except `but`'s), joined; "true" when none."""
        parts = [sql for name, sql in self.selected.items() if name != but]
        return " AND ".join(parts) or "true"


def build_filters(query: SearchQuery, words: str | None) -> Filters:
    """`words` is the (corrected) text to match, None when browsing without a query."""
    filters = Filters()
    if query.category_id is not None:
        filters.base.append("d.category_path @> ARRAY[CAST(:scope AS integer)]")
        filters.params["scope"] = query.category_id
    if words is not None:
        filters.base.append("d.search_vector @@ plainto_tsquery('english', :words)")
        filters.params["words"] = words
        filters.has_words = True
    if query.in_stock_only:
        filters.base.append("d.in_stock")
    prices = [BUCKETS[key] for key in dict.fromkeys(query.prices)]
    if prices:
        ranges = []
        for i, bucket in enumerate(prices):
            filters.params[f"price_low_{i}"] = bucket.low_minor
            low = f"d.min_price_minor >= :price_low_{i}"
            if bucket.high_minor is None:
                ranges.append(low)
            else:
                filters.params[f"price_high_{i}"] = bucket.high_minor
                ranges.append(f"({low} AND d.min_price_minor < :price_high_{i})")
        filters.selected["price"] = filters.checks["price"] = "(" + " OR ".join(ranges) + ")"
    for name, values in query.attributes.items():
        facet = FACETS_BY_NAME[name]
        chosen = list(dict.fromkeys(values))
        if not chosen:
            continue
        # @> can use the GIN index on attributes; one containment per value, ORed.
        parts = []
        for i, value in enumerate(chosen):
            filters.params[f"{name}_{i}"] = json.dumps({facet.key: value})
            parts.append(f"d.attributes @> CAST(:{name}_{i} AS jsonb)")
        filters.selected[name] = "(" + " OR ".join(parts) + ")"
        filters.params[f"{name}_values"] = chosen
        filters.checks[name] = f"d.{facet.key} = ANY(CAST(:{name}_values AS text[]))"
    return filters
