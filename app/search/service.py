"""Search: typo-tolerant full-text search with facets, suggestions and did-you-mean.

Free of HTTP; never commits. Reads only the search domain's tables, plus the catalog's
service for product cards and category names. The index is built by `indexing.py`, whose
functions are part of this module's surface.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import service as catalog
from app.catalog.models import CategoryView
from app.money import format_money
from app.search.facets import FacetCounts, PageSpec, count_facets
from app.search.filters import BUCKETS, FACETS_BY_NAME, Filters, build_filters
from app.search.indexing import rebuild_terms, reindex_all, reindex_products
from app.search.models import (
    ATTRIBUTE_FACETS,
    PRICE_BUCKETS,
    SORTS,
    Facet,
    FacetValue,
    PriceBucket,
    SearchQuery,
    SearchResults,
    Suggestion,
)
from app.search.words import check_words, nearest_phrase, words_of

__all__ = [
    "SearchQueryError",
    "did_you_mean",
    "list_popular_categories",
    "rebuild_terms",
    "reindex_all",
    "reindex_products",
    "search",
    "suggest",
]

MAX_PAGE_SIZE = 200
MAX_FACET_VALUES = 12  # per attribute facet, besides the chosen ones
# Rank weights for D, C, B, A: description (C) 0.2, category and attributes (B) 0.4, title 1.
RANK_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"


class SearchQueryError(ValueError):
    """A SearchQuery asks for something that does not exist (a sort, a bucket, a facet)."""


def _check(query: SearchQuery) -> None:
    if query.sort not in SORTS:
        raise SearchQueryError(f"unknown sort {query.sort!r}")
    if unknown := set(query.prices) - BUCKETS.keys():
        raise SearchQueryError(f"unknown price range {sorted(unknown)[0]!r}")
    if unknown := set(query.attributes) - FACETS_BY_NAME.keys():
        raise SearchQueryError(f"unknown facet {sorted(unknown)[0]!r}")
    first = query.first_page or query.page
    if not 1 <= first <= query.page or not 1 <= query.page_size <= MAX_PAGE_SIZE:
        raise SearchQueryError("pages start at 1 and hold 1 to 200 products")


def _order(query: SearchQuery, filters: Filters, words: list[str]) -> list[tuple[str, str]]:
    if query.sort == "price_asc":
        return [("d.min_price_minor", "ASC"), ("d.product_id", "ASC")]
    if query.sort == "price_desc":
        return [("d.min_price_minor", "DESC"), ("d.product_id", "DESC")]
    if query.sort == "relevance" and words:
        # Titles holding every word first (an exact title is the shortest of those), then
        # weighted rank: a word in the title outranks it in the attributes, and those the
        # description. ts_rank, not ts_rank_cd: at 8,000 matches cover density cost 15 ms
        # more and ordered no differently for queries of a few words.
        filters.params["title_words"] = " & ".join(f"'{word}':A" for word in words)
        return [
            ("d.search_vector @@ to_tsquery('english', :title_words)", "DESC"),
            (
                f"ts_rank('{RANK_WEIGHTS}', d.search_vector, plainto_tsquery('english', :words))",
                "DESC",
            ),
            ("length(d.title)", "ASC"),
            ("d.product_id", "DESC"),
        ]
    return [("d.created_at", "DESC"), ("d.product_id", "DESC")]


async def search(session: AsyncSession, query: SearchQuery) -> SearchResults:
    """Products matching the words (typos corrected) and filters, one page (or a run of
    pages), with facet counts; see `SearchQuery`. Raises SearchQueryError."""
    _check(query)
    words = words_of(query.q)
    checks = await check_words(session, words)
    corrected = [check.corrected for check in checks]
    searchable = query.q.strip() == "" or any(not check.stop_word for check in checks)
    filters = build_filters(query, " ".join(corrected) if words else None)
    first = query.first_page or query.page
    page = PageSpec(
        order=_order(query, filters, corrected),
        limit=(query.page - first + 1) * query.page_size,
        offset=(first - 1) * query.page_size,
    )
    counts, ids = FacetCounts(), []
    if searchable:
        counts, found = await count_facets(session, query, filters, page)
        if found is not None:
            ids = found
        elif counts.total > page.offset:
            # Counts were stored: the page comes straight off an index in the sort order.
            order = ", ".join(f"{expression} {direction}" for expression, direction in page.order)
            rows = await session.execute(
                text(
                    f"SELECT d.product_id FROM search_document d "
                    f"WHERE {filters.where(filters.all_selected())} "
                    f"ORDER BY {order} LIMIT :limit OFFSET :offset"
                ),
                {**filters.params, "limit": page.limit, "offset": page.offset},
            )
            ids = list(rows.scalars().all())
    searched_for = " ".join(corrected)
    nearest = nearest_phrase(checks) if counts.total == 0 else None
    return SearchResults(
        items=await catalog.list_cards(session, ids),
        total=counts.total,
        page=query.page,
        first_page=first,
        page_size=query.page_size,
        facets=await _facets(session, query, counts),
        in_stock_count=counts.in_stock,
        searched_for=searched_for,
        corrected_from=query.q.strip() if corrected != words else None,
        did_you_mean=nearest if nearest != searched_for else None,
    )


def _price_label(bucket: PriceBucket, currency: str) -> str:
    def whole(amount: int) -> str:
        return format_money(amount, currency).removesuffix(".00")

    if bucket.low_minor == 0 and bucket.high_minor is not None:
        return f"Under {whole(bucket.high_minor)}"
    if bucket.high_minor is None:
        return f"{whole(bucket.low_minor)} and over"
    return f"{whole(bucket.low_minor)} to {whole(bucket.high_minor)}"


async def _facets(session: AsyncSession, query: SearchQuery, counts: FacetCounts) -> list[Facet]:
    children: list[CategoryView] = []
    by_child = counts.by_facet.get("category", {})
    if by_child:
        if query.category_id is None:
            children = await catalog.list_top_categories(session)
        else:
            children = await catalog.list_subcategories(session, query.category_id)
    facets = [
        Facet(
            "category",
            "Category",
            [
                FacetValue(child.slug, child.name, by_child[str(child.id)], False)
                for child in children
                if by_child.get(str(child.id))
            ],
        )
    ]
    prices = counts.by_facet.get("price", {})
    facets.append(
        Facet(
            "price",
            "Price",
            [
                FacetValue(
                    bucket.key,
                    _price_label(bucket, query.currency),
                    prices.get(bucket.key, 0),
                    bucket.key in query.prices,
                )
                for bucket in PRICE_BUCKETS
                if prices.get(bucket.key) or bucket.key in query.prices
            ],
        )
    )
    for attribute in ATTRIBUTE_FACETS:
        found = counts.by_facet.get(attribute.name, {})
        chosen = set(query.attributes.get(attribute.name, ()))
        ranked = sorted(found.items(), key=lambda item: (-item[1], item[0]))
        shown = ranked[:MAX_FACET_VALUES] + [
            item for item in ranked[MAX_FACET_VALUES:] if item[0] in chosen
        ]
        shown += [(value, 0) for value in sorted(chosen - found.keys())]
        label = str.capitalize if attribute.key == "colour_family" else str
        values = [FacetValue(value, label(value), n, value in chosen) for value, n in shown]
        facets.append(Facet(attribute.name, attribute.label, values))
    return facets


async def did_you_mean(session: AsyncSession, q: str) -> str | None:
    """The query with each word the catalog lacks replaced by the nearest one it has."""
    return nearest_phrase(await check_words(session, words_of(q)))


_SUGGEST_ROWS = 5  # rows read per suggestion shown: titles repeat across products


async def suggest(session: AsyncSession, prefix: str, limit: int = 8) -> list[Suggestion]:
    """Products whose titles start words with what was typed so far, newest first, one per
    title; the last word counts as a prefix. If nothing matches, typos are corrected."""
    words = words_of(prefix)
    if not words or len("".join(words)) < 2:
        return []
    last = f"'{words[-1]}':*A"
    found = await _title_matches(session, [*words[:-1], last], limit * _SUGGEST_ROWS)
    if not found:
        checks = await check_words(session, words)
        corrected = [check.corrected for check in checks]
        if corrected != words:
            found = await _title_matches(session, corrected, limit * _SUGGEST_ROWS)
    unique: dict[str, Suggestion] = {}
    for suggestion in found:
        unique.setdefault(suggestion.title.casefold(), suggestion)
    return list(unique.values())[:limit]


async def _title_matches(session: AsyncSession, terms: list[str], limit: int) -> list[Suggestion]:
    """Documents whose title (weight A) holds every term; `terms` are words or tsquery
    prefixes built from words (letters and digits only, so quoting them is safe)."""
    query = " & ".join(term if term.startswith("'") else f"'{term}':A" for term in terms)
    rows = await session.execute(
        text(
            "SELECT d.product_id, d.slug, d.title FROM search_document d "
            "WHERE d.search_vector @@ to_tsquery('english', :query) "
            "ORDER BY d.created_at DESC, d.product_id DESC LIMIT :limit"
        ),
        {"query": query, "limit": limit},
    )
    return [Suggestion(*row) for row in rows.all()]


async def list_popular_categories(
    session: AsyncSession, limit: int = 6
) -> list[tuple[CategoryView, int]]:
    """Departments with the most products, for a page that found nothing."""
    rows = await session.execute(
        text(
            "SELECT value, n FROM search_facet_count WHERE scope_id = 0 AND NOT in_stock_only "
            "AND facet = 'category' AND n > 0"
        )
    )
    sizes = {int(value): n for value, n in rows.all()}
    departments = await catalog.list_top_categories(session)
    ranked = sorted(
        (category for category in departments if category.id in sizes),
        key=lambda category: -sizes[category.id],
    )
    return [(category, sizes[category.id]) for category in ranked[:limit]]
