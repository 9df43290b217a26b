"""Search pages: results with facets, and suggestions as you type. Public and edge-cacheable:
the same for everyone, no cookies, purged by the `search` surrogate key."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.catalog import service as catalog
from app.catalog.models import CategoryView
from app.db import transaction
from app.search import service as search_service
from app.search.models import SearchResults
from app.search.params import first_page, parse_search_params
from app.web.caching import cache_publicly
from app.web.htmx import is_fragment_request, render

SUGGESTIONS = 8


async def search(request: Request) -> Response:
    params = parse_search_params(request.query_params)
    settings = request.app.state.settings
    async with transaction(request.app.state.sessionmaker) as session:
        trail = await _trail(session, params.category)
        query = params.query(
            category_id=trail[-1].id if trail else None,
            page_size=settings.page_size,
            first_page=first_page(params, fragment=is_fragment_request(request)),
            currency=settings.currency,
        )
        results = await search_service.search(session, query)
        popular = [] if results.total else await search_service.list_popular_categories(session)
    if params.page > results.last:
        raise HTTPException(404)
    context = {
        "params": params, "results": results, "path": request.url.path, "trail": trail,
        "popular": popular, "query": params.q, "wrap_results": True,
    }  # fmt: skip
    response = render(request, "search/search.html", context, fragment="search/_more.html")
    return cache_publicly(response, settings, keys_for(results, trail, ["search"]))


async def _trail(session: AsyncSession, slug: str) -> list[CategoryView]:
    """The chosen category and its ancestors, root first; none without `?category=`."""
    if not slug:
        return []
    try:
        found = await catalog.get_category(session, slug)
    except catalog.CatalogNotFound:
        raise HTTPException(400, "no such category") from None
    return await catalog.list_breadcrumbs(session, found.id)


def keys_for(results: SearchResults, categories: list[CategoryView], keys: list[str]) -> list[str]:
    """Surrogate keys: what the page is, every product shown and every category named."""
    return [
        *keys,
        *(f"category-{category.id}" for category in categories),
        *(key for card in results.items for key in card.surrogate_keys),
    ]


async def suggest(request: Request) -> Response:
    q = request.query_params.get("q", "")[:100]
    async with transaction(request.app.state.sessionmaker) as session:
        suggestions = await search_service.suggest(session, q, limit=SUGGESTIONS)
    response = render(request, "search/_suggestions.html", {"suggestions": suggestions})
    keys = ["search", *(f"product-{s.product_id}" for s in suggestions)]
    return cache_publicly(response, request.app.state.settings, keys)


routes = [
    Route("/search", search, name="search"),
    Route("/search/suggest", suggest, name="search_suggest"),
]
