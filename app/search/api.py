"""GET /api/v1/search: the search engine and facets of the /search page, as JSON.

Parameters are the page's: `q`, `category` (a slug: that category and everything below it),
repeatable facet parameters (`price`, `material`, `colour`, `brand`), `in_stock`, `sort`, and the
API's `page`/`limit`. The answer is cached like every API response (`app/web/api.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.catalog import schemas as catalog_schemas
from app.catalog import service as catalog
from app.catalog.models import CategoryView
from app.db import transaction
from app.search import params as search_page
from app.search import service as search
from app.search.models import SORTS, SearchQuery
from app.search.models import Facet as FoundFacet
from app.search.words import MAX_QUERY_LENGTH
from app.web.api import (
    MAX_LIMIT,
    api_response,
    bool_param,
    choice_param,
    invalid_parameter,
    is_slug,
    list_param,
    not_found,
    page_params,
    text_param,
)
from app.web.bearer import optional_scope
from app.web.openapi import describe

# The bounds below are also the OpenAPI document's (app/catalog/openapi.py reads them).
CATEGORY_SLUG_MAX = 120
# The /search page's parameters and limits (app/search/params.py), so both take the same URLs.
MAX_FACET_VALUES = search_page.MAX_VALUES
MAX_FACET_VALUE_LENGTH = search_page.MAX_VALUE_LENGTH
PRICE_KEYS = list(search_page.PRICE_KEYS)
FACET_PARAMETERS = list(search_page.ATTRIBUTE_NAMES)
SEARCH_KEY = "search"  # purged when the search index changes
CATALOG_SCOPE = "catalog:read"  # checked only when a request sends a token (app/web/bearer.py)


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet, with how many results choosing it would give."""

    value: Annotated[str, describe("What to pass in the facet's parameter.")]
    label: Annotated[str, describe("What to show.")]
    count: Annotated[int, describe("Results with this value, other filters applied.", minimum=0)]
    selected: Annotated[bool, describe("Whether the request chose this value.")]


@dataclass(frozen=True)
class Facet:
    """A way to narrow the results; its `name` is the query parameter that takes its values."""

    name: Annotated[str, describe("The parameter: category, price, material, colour or brand.")]
    label: Annotated[str, describe("What to show.")]
    values: Annotated[list[FacetValue], describe("Values with at least one result, or chosen.")]


@dataclass(frozen=True)
class SearchResults:
    """A page of search results, with facet counts and spelling help."""

    items: Annotated[list[catalog_schemas.ProductSummary], describe("The products on this page.")]
    page: Annotated[int, describe("This page's number, from 1.", minimum=1)]
    limit: Annotated[int, describe("Products per page.", minimum=1, maximum=MAX_LIMIT)]
    total: Annotated[int, describe("Products matching, across all pages.", minimum=0)]
    next: Annotated[str | None, describe("Root-relative URL of the next page, or null.")]
    searched_for: Annotated[
        str, describe("The words searched, after typo correction; empty when browsing.")
    ]
    corrected_from: Annotated[
        str | None, describe("The words as typed, when a typo was corrected; else null.")
    ]
    did_you_mean: Annotated[
        str | None, describe("When nothing matched: a nearby spelling worth trying, or null.")
    ]
    in_stock_count: Annotated[
        int, describe("Results that would remain with in_stock=true.", minimum=0)
    ]
    facets: Annotated[list[Facet], describe("category (below the scope), price, then attributes.")]


def _facet(facet: FoundFacet) -> Facet:
    return Facet(
        facet.name,
        facet.label,
        [FacetValue(v.value, v.label, v.count, v.selected) for v in facet.values],
    )


def _query(request: Request) -> tuple[dict[str, list[str]], SearchQuery]:
    """The request's parameters (for the next page's URL) and the query they describe."""
    q = text_param(request, "q", max_length=MAX_QUERY_LENGTH, min_length=0) or ""
    prices = list_param(
        request, "price", max_items=len(PRICE_KEYS), max_length=20, choices=PRICE_KEYS
    )
    attributes = {
        name: list_param(
            request, name, max_items=MAX_FACET_VALUES, max_length=MAX_FACET_VALUE_LENGTH
        )
        for name in FACET_PARAMETERS
    }
    in_stock = bool_param(request, "in_stock", default=False)
    sort = choice_param(request, "sort", SORTS, "relevance")
    page, limit = page_params(request)
    given = {"q": [q] if q else [], "price": prices, **attributes}
    given |= {"in_stock": ["true"] if in_stock else [], "sort": [sort], "limit": [str(limit)]}
    query = SearchQuery(
        q=q,
        prices=prices,
        attributes={name: values for name, values in attributes.items() if values},
        in_stock_only=in_stock,
        sort=sort,
        page=page,
        page_size=limit,
        currency=request.app.state.settings.currency,
    )
    return given, query


async def _scope(session: AsyncSession, slug: str | None) -> CategoryView | None:
    """The category to search within (with everything below it); 404 if there is none."""
    if slug is None:
        return None
    try:
        if is_slug(slug, CATEGORY_SLUG_MAX):
            return await catalog.get_category(session, slug)
    except catalog.CatalogNotFound:
        pass
    raise not_found(f"No category {slug!r}")


async def search_products(request: Request) -> Response:
    await optional_scope(request, CATALOG_SCOPE)
    given, query = _query(request)
    slug = text_param(request, "category", max_length=CATEGORY_SLUG_MAX)
    async with transaction(request.app.state.sessionmaker) as session:
        scope = await _scope(session, slug)
        if scope is not None:
            query = replace(query, category_id=scope.id)
        try:
            found = await search.search(session, query)
        except search.SearchQueryError as error:
            raise invalid_parameter("query", str(error)) from None
    next_url = None
    if found.has_next:
        pairs = [(name, value) for name, values in given.items() for value in values]
        pairs += [("category", slug)] if slug else []
        pairs += [("page", str(query.page + 1))]
        next_url = request.url.path + "?" + urlencode(pairs)
    body = SearchResults(
        items=[catalog_schemas.product_summary(card) for card in found.items],
        page=query.page,
        limit=query.page_size,
        total=found.total,
        next=next_url,
        searched_for=found.searched_for,
        corrected_from=found.corrected_from,
        did_you_mean=found.did_you_mean,
        in_stock_count=found.in_stock_count,
        facets=[_facet(facet) for facet in found.facets],
    )
    keys = [SEARCH_KEY, *(key for card in found.items for key in card.surrogate_keys)]
    keys += [f"category-{scope.id}"] if scope else []
    return api_response(request, body, keys)


routes = [Route("/api/v1/search", search_products, name="api_search")]
