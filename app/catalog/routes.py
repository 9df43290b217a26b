"""Catalog pages: home, category and product. Public, cacheable at the edge, no cookies."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.catalog import service as catalog
from app.catalog import variants
from app.db import transaction
from app.search import service as search
from app.search.params import first_page, parse_search_params
from app.web.caching import cache_publicly
from app.web.htmx import is_fragment_request, render
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
        *(key for p in featured for key in p.surrogate_keys),
        *(f"category-{c.id}" for c in categories),
        *(f"collection-{c.id}" for c in collections),
    ]
    return cache_publicly(response, request.app.state.settings, keys)


async def category(request: Request) -> Response:
    """A category and everything below it, with the search page's facets, sort and "load
    more" (app/search): `?price=&material=&colour=&brand=&in_stock=1&sort=&page=`."""
    params = parse_search_params(request.query_params, allow_category=False)
    settings = request.app.state.settings
    async with transaction(request.app.state.sessionmaker) as session:
        try:
            found = await catalog.get_category(session, request.path_params["slug"])
        except catalog.CatalogNotFound:
            raise HTTPException(404) from None
        window = first_page(params, fragment=is_fragment_request(request))
        query = params.query(
            category_id=found.id, page_size=settings.page_size, first_page=window,
            currency=settings.currency,
        )  # fmt: skip
        page = await search.search(session, query)
        children = await catalog.list_subcategories(session, found.id)
        breadcrumbs = await catalog.list_breadcrumbs(session, found.id)
    if params.page > page.last:
        raise HTTPException(404)
    counts = page.facet("category")
    context = {
        "category": found, "page": page, "results": page, "params": params,
        "path": request.url.path, "children": children, "breadcrumbs": breadcrumbs,
        "child_counts": {v.value: v.count for v in counts.values} if counts else {},
    }  # fmt: skip
    response = render(request, "catalog/category.html", context, fragment="search/_more.html")
    keys = [f"category-{c.id}" for c in (*breadcrumbs, *children)]
    keys += [key for p in page.items for key in p.surrogate_keys]
    return cache_publicly(response, settings, keys)


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
    keys = [f"collection-{found.id}", *(key for p in page.items for key in p.surrogate_keys)]
    return cache_publicly(response, request.app.state.settings, keys)


async def product(request: Request) -> Response:
    async with transaction(request.app.state.sessionmaker) as session:
        try:
            detail = await catalog.get_product(session, request.path_params["slug"])
        except catalog.CatalogNotFound:
            raise HTTPException(404) from None
    query = request.query_params
    chosen_id = query.get("variant")
    picked = variants.select_variant(detail.variants, variant_id=chosen_id, options=query)
    keys = detail.surrogate_keys
    own_url = _variant_url(request, detail.slug, picked) if picked.from_options else None
    response: Response
    if own_url and not is_fragment_request(request):
        # Without JavaScript the picker is a plain GET form: on to the variant's own URL.
        response = RedirectResponse(own_url, status_code=303, headers={"Vary": "HX-Request"})
    else:
        images = variants.images_for(detail.images, picked)
        context = {"product": detail, "picked": picked, "images": images}
        fragment = "catalog/_buy_box.html"
        response = render(request, "catalog/product.html", context, fragment=fragment)
        if picked.from_options:
            # htmx shows the variant's URL; a combination no variant has keeps the old address.
            response.headers["HX-Push-Url"] = own_url or "false"
    return cache_publicly(response, request.app.state.settings, keys)


def _variant_url(request: Request, slug: str, picked: variants.Selection) -> str | None:
    """`/products/<slug>?variant=<id>`: one URL (and one edge cache entry) per variant."""
    if picked.variant is None:
        return None
    return f"{request.app.url_path_for('product', slug=slug)}?variant={picked.variant.id}"


routes = [
    Route("/", home, name="home"),
    Route("/categories/{slug:str}", category, name="category"),
    Route("/products/{slug:str}", product, name="product"),
    Route("/collections/{slug:str}", collection, name="collection"),
]
