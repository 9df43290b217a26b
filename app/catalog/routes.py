"""Catalog pages: home, category and product. Public, cacheable at the edge, no cookies."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.catalog import service as catalog
from app.db import transaction
from app.web.caching import cache_publicly
from app.web.htmx import render
from app.web.params import page_number


async def home(request: Request) -> Response:
    async with transaction(request.app.state.sessionmaker) as session:
        featured = await catalog.list_featured_products(session, limit=12)
        categories = await catalog.list_top_categories(session)
        collections = await catalog.list_collections(session)
    context = {"featured": featured, "categories": categories, "collections": collections}
    response = render(request, "catalog/home.html", context)
    keys = [
        "home",
        *(f"product-{p.id}" for p in featured),
        *(f"category-{c.id}" for c in categories),
        *(f"collection-{c.id}" for c in collections),
    ]
    return cache_publicly(response, request.app.state.settings, keys)


async def category(request: Request) -> Response:
    number = page_number(request)
    async with transaction(request.app.state.sessionmaker) as session:
        try:
            found = await catalog.get_category(session, request.path_params["slug"])
        except catalog.CatalogNotFound:
            raise HTTPException(404) from None
        page = await catalog.list_category_products(
            session, found.id, number, request.app.state.settings.page_size
        )
        children = await catalog.list_subcategories(session, found.id)
        breadcrumbs = await catalog.list_breadcrumbs(session, found.id)
    if number > page.last:
        raise HTTPException(404)
    context = {"category": found, "page": page, "children": children, "breadcrumbs": breadcrumbs}
    response = render(request, "catalog/category.html", context)
    keys = [f"category-{c.id}" for c in (*breadcrumbs, *children)]
    keys += [f"product-{p.id}" for p in page.items]
    return cache_publicly(response, request.app.state.settings, keys)


async def collection(request: Request) -> Response:
    number = page_number(request)
    async with transaction(request.app.state.sessionmaker) as session:
        try:
            found = await catalog.get_collection(session, request.path_params["slug"])
        except catalog.CatalogNotFound:
            raise HTTPException(404) from None
        page = await catalog.list_collection_products(
            session, found, number, request.app.state.settings.page_size
        )
    if number > page.last:
        raise HTTPException(404)
    response = render(request, "catalog/collection.html", {"collection": found, "page": page})
    keys = [f"collection-{found.id}", *(f"product-{p.id}" for p in page.items)]
    return cache_publicly(response, request.app.state.settings, keys)


async def product(request: Request) -> Response:
    async with transaction(request.app.state.sessionmaker) as session:
        try:
            detail = await catalog.get_product(session, request.path_params["slug"])
        except catalog.CatalogNotFound:
            raise HTTPException(404) from None
    response = render(request, "catalog/product.html", {"product": detail})
    keys = [f"product-{detail.id}", *(f"category-{c.id}" for c in detail.breadcrumbs)]
    return cache_publicly(response, request.app.state.settings, keys)


routes = [
    Route("/", home, name="home"),
    Route("/categories/{slug:str}", category, name="category"),
    Route("/products/{slug:str}", product, name="product"),
    Route("/collections/{slug:str}", collection, name="collection"),
]
