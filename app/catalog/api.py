"""The read API under /api/v1: products, variants, the category tree, and its own docs.

Handlers check an access token if one is sent (`app/web/bearer.py`), parse, call one catalog
service, and answer an explicit schema (`app/catalog/schemas.py`)
through `app.web.api.api_response`: public, cacheable at the edge, ETag and 304.
"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.catalog import schemas
from app.catalog import service as catalog
from app.catalog.models import ProductDetail
from app.db import transaction
from app.web.api import api_response, choice_param, is_slug, not_found, page_params, text_param
from app.web.bearer import optional_scope

# Public without a token; a request that sends one needs it valid and holding this scope.
SCOPE = "catalog:read"

# The bounds below are also the OpenAPI document's (app/catalog/openapi.py reads them).
CATEGORY_SLUG_MAX = 120
PRODUCT_KEY_MAX = 160
# Ids are PostgreSQL integers; a longer number names no row.
_MAX_ID = 2**31 - 1


async def list_products(request: Request) -> Response:
    await optional_scope(request, SCOPE)
    slug = text_param(request, "category", max_length=CATEGORY_SLUG_MAX)
    page, limit = page_params(request)
    sort = choice_param(request, "sort", catalog.PRODUCT_SORTS, "newest")
    async with transaction(request.app.state.sessionmaker) as session:
        category_ids = None
        if slug is not None:
            category_ids = await _category_subtree(session, slug)
        found = await catalog.list_products(
            session, category_ids=category_ids, page=page, page_size=limit, sort=sort
        )
    query = {"category": slug, "page": page + 1, "limit": limit, "sort": sort}
    next_url = None
    if found.has_next:
        next_url = request.url.path + "?" + urlencode({k: v for k, v in query.items() if v})
    body = schemas.ProductList(
        [schemas.product_summary(card) for card in found.items], page, limit, found.total, next_url
    )
    keys = [f"category-{i}" for i in category_ids or []]
    keys += [key for card in found.items for key in card.surrogate_keys]
    return api_response(request, body, keys)


async def _category_subtree(session: AsyncSession, slug: str) -> list[int]:
    if not is_slug(slug, CATEGORY_SLUG_MAX):
        raise not_found(f"No category {slug!r}")
    try:
        category = await catalog.get_category(session, slug)
    except catalog.CatalogNotFound:
        raise not_found(f"No category {slug!r}") from None
    return await catalog.list_category_subtree(session, category.id)


async def _find_product(request: Request) -> ProductDetail:
    """By id when the path segment is all digits, else by slug; 404 when there is none."""
    key = request.path_params["id_or_slug"]
    async with transaction(request.app.state.sessionmaker) as session:
        try:
            if key.isascii() and key.isdigit() and len(key) <= 10 and int(key) <= _MAX_ID:
                return await catalog.get_product_by_id(session, int(key))
            if is_slug(key, PRODUCT_KEY_MAX):
                return await catalog.get_product(session, key)
        except catalog.CatalogNotFound:
            pass
    raise not_found(f"No product {key!r}")


def _product_keys(detail: ProductDetail) -> list[str]:
    return detail.surrogate_keys


async def get_product(request: Request) -> Response:
    await optional_scope(request, SCOPE)
    detail = await _find_product(request)
    body = schemas.product(detail, request.app.state.settings.site_url)
    return api_response(request, body, _product_keys(detail))


async def list_variants(request: Request) -> Response:
    await optional_scope(request, SCOPE)
    detail = await _find_product(request)
    body = schemas.VariantList(detail.id, [schemas.variant(v) for v in detail.variants])
    return api_response(request, body, [f"product-{detail.id}"])


async def list_categories(request: Request) -> Response:
    await optional_scope(request, SCOPE)
    async with transaction(request.app.state.sessionmaker) as session:
        tree = await catalog.list_category_tree(session)
    body = schemas.CategoryTree([schemas.category_node(node) for node in tree])
    keys = []
    stack = list(tree)
    while stack:
        node = stack.pop()
        keys.append(f"category-{node.category.id}")
        stack.extend(node.children)
    return api_response(request, body, sorted(keys))


routes = [
    Route("/api/v1/products", list_products, name="api_products"),
    Route("/api/v1/products/{id_or_slug:str}", get_product, name="api_product"),
    Route("/api/v1/products/{id_or_slug:str}/variants", list_variants, name="api_variants"),
    Route("/api/v1/categories", list_categories, name="api_categories"),
]
