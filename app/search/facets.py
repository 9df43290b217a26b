"""Facet counts: each facet's counts apply every other chosen filter, never its own.

Two sources. Without words to match and with at most one facet chosen, a facet's counts are
those of the whole category (optionally in stock only), which the indexer keeps in
`search_facet_count`: a department page costs one primary-key range read instead of counting
20,000 rows. Everything else is counted live in one statement: one scan of the matching rows,
one hash aggregate with a grouping set per facet, and a FILTERed count per chosen facet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.search.filters import FACETS_BY_NAME, Filters
from app.search.indexing import bucket_params
from app.search.models import ATTRIBUTE_FACETS, PRICE_BUCKETS, SearchQuery

FACET_NAMES = ("category", "price", *(facet.name for facet in ATTRIBUTE_FACETS))


@dataclass
class FacetCounts:
    by_facet: dict[str, dict[str, int]] = field(default_factory=dict)  # "category": child ids
    total: int = 0
    in_stock: int = 0


def _value_sql(name: str, query: SearchQuery) -> str:
    """The facet's value for one document: the scope's child category id, the price bucket's
    number, or the attribute. Numbers, not text, and plain columns (migration 0007), not jsonb:
    this runs for every matching row, and hashing ints and reading columns is cheaper."""
    if name == "category":
        if query.category_id is None:
            return "d.category_path[1]"
        return "d.category_path[array_position(d.category_path, CAST(:scope AS integer)) + 1]"
    if name == "price":
        return "width_bucket(d.min_price_minor, CAST(:bucket_edges AS integer[]))"
    return f"d.{FACETS_BY_NAME[name].key}"


@dataclass(frozen=True)
class PageSpec:
    """Which ids to return with the counts: `order` is (SQL expression on `d`, direction)."""

    order: list[tuple[str, str]]
    limit: int
    offset: int


async def count_facets(
    session: AsyncSession, query: SearchQuery, filters: Filters, page: PageSpec
) -> tuple[FacetCounts, list[int] | None]:
    """The counts, and when they had to be counted live, the page's ids with them (one scan
    serves both); None means the caller reads the page itself (through an ordered index)."""
    counts = FacetCounts(by_facet={name: {} for name in FACET_NAMES})
    stored: tuple[str, ...] = ()
    if not filters.has_words and len(filters.selected) <= 1:
        stored = tuple(filters.selected) or FACET_NAMES
    live = [name for name in FACET_NAMES if name not in stored]
    if stored:
        wanted = [*stored] if live else [*stored, "total", "in_stock"]
        rows = await session.execute(
            text(
                "SELECT facet, value, n FROM search_facet_count WHERE scope_id = :scope "
                "AND in_stock_only = :stock AND facet = ANY(CAST(:facets AS text[])) AND n > 0"
            ),
            {"scope": query.category_id or 0, "stock": query.in_stock_only, "facets": wanted},
        )
        for facet, value, n in rows.all():
            if facet == "total":
                counts.total = n
            elif facet == "in_stock":
                counts.in_stock = n
            else:
                counts.by_facet[facet][value] = n
    if not live:
        return counts, None
    return counts, await _count_live(session, query, filters, live, counts, page)


async def _count_live(
    session: AsyncSession, query: SearchQuery, filters: Filters, live: list[str],
    counts: FacetCounts, page: PageSpec,
) -> list[int]:  # fmt: skip
    chosen = list(filters.selected)
    # Rows some count needs: all chosen filters pass, or all but one of a live chosen facet.
    relaxed = [filters.all_selected(but=name) for name in chosen if name in live]
    needed = "(" + " OR ".join(relaxed) + ")" if relaxed else filters.all_selected()
    values = ", ".join(f"{_value_sql(name, query)} AS v_{name}" for name in live)
    oks = "".join(f", {sql} AS ok_{name}" for name, sql in filters.checks.items())
    keys = "".join(f", {expression} AS k{i}" for i, (expression, _) in enumerate(page.order))
    order = ", ".join(f"k{i} {direction}" for i, (_, direction) in enumerate(page.order))

    def passing(but: str | None = None) -> str:
        return " AND ".join(f"ok_{name}" for name in chosen if name != but) or "true"

    own = "".join(
        f", count(*) FILTER (WHERE {passing(name)}) AS n_{name}" for name in live if name in chosen
    )
    sets = ", ".join(f"(v_{name})" for name in live)
    grouping = ", ".join(f"v_{name}" for name in live)
    # One scan of the matching rows, kept in memory (MATERIALIZED): each row's facet values,
    # filter results and sort keys are worked out once, then counted per facet (one hash
    # aggregate, a grouping set per facet) and sorted for the page.
    sql = f"""
        WITH m AS MATERIALIZED (
            SELECT d.product_id, d.in_stock, {values}{oks}{keys}
            FROM search_document d
            WHERE {filters.where(needed)}
        ),
        counted AS (
            SELECT GROUPING({grouping}) AS g, {grouping},
                count(*) FILTER (WHERE {passing()}) AS n_all,
                count(*) FILTER (WHERE {passing()} AND in_stock) AS n_in_stock{own}
            FROM m
            GROUP BY GROUPING SETS ((), {sets})
        ),
        page AS (
            SELECT product_id, {", ".join(f"k{i}" for i in range(len(page.order)))}
            FROM m WHERE {passing()}
            ORDER BY {order} LIMIT :page_limit OFFSET :page_offset
        )
        SELECT (SELECT json_agg(counted) FROM counted) AS counts,
               (SELECT array_agg(product_id ORDER BY {order}) FROM page) AS ids
    """
    params = {**filters.params, "bucket_edges": bucket_params()["bucket_edges"]}
    params |= {"page_limit": page.limit, "page_offset": page.offset}
    row = (await session.execute(text(sql), params)).one()
    everything = (1 << len(live)) - 1
    for found in row.counts:
        if found["g"] == everything:
            counts.total = found["n_all"]
            counts.in_stock = found["n_in_stock"]
            continue
        for position, name in enumerate(live):
            if found["g"] == everything ^ (1 << (len(live) - 1 - position)):
                value, n = found[f"v_{name}"], found.get(f"n_{name}", found["n_all"])
                if value is not None and n:
                    key = PRICE_BUCKETS[value].key if name == "price" else str(value)
                    counts.by_facet[name][key] = n
    return list(row.ids or [])
