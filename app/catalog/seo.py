"""/robots.txt and the XML sitemaps: an index, one file of categories, files of products.

All are the same for every visitor and cached at the edge under the `sitemap` surrogate key.
URLs are absolute from the SITE_URL setting, never from the request's Host. See docs/seo.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from xml.sax.saxutils import escape

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from app.catalog import sitemaps
from app.db import transaction
from app.web.caching import cache_publicly

KEYS = ["sitemap"]
# Personal, write and machine paths: nothing there for a search engine.
DISALLOW = ("/cart", "/checkout", "/account", "/orders", "/admin", "/fragments", "/api/")
XMLNS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XML_TYPE = "application/xml; charset=utf-8"
# URLs per chunk of a streamed sitemap file: the event loop (and the gzip middleware) serve
# other requests between chunks instead of stalling on one 6 MB file.
CHUNK = 1000

Located = tuple[str, str | None]  # an absolute URL and when it last changed (W3C, UTC)


async def robots(request: Request) -> Response:
    site_url = request.app.state.settings.site_url
    lines = ["User-agent: *", "Allow: /", *(f"Disallow: {path}" for path in DISALLOW)]
    lines += ["", f"Sitemap: {site_url}{request.app.url_path_for('sitemap_index')}", ""]
    return cache_publicly(PlainTextResponse("\n".join(lines)), request.app.state.settings, KEYS)


async def sitemap_index(request: Request) -> Response:
    settings = request.app.state.settings
    async with transaction(request.app.state.sessionmaker) as session:
        files = await sitemaps.list_product_sitemap_files(session, settings.sitemap_page_size)
    absolute = _absolute(request)
    # Every product sits in a category, so the newest product dates the category file too.
    newest = max((file.lastmod for file in files), default=None)
    entries: list[Located] = [(absolute("sitemap_categories"), newest)]
    entries += [(absolute("sitemap_products", number=f.number), f.lastmod) for f in files]
    return _xml(_document("sitemapindex", "sitemap", entries), request)


async def sitemap_categories(request: Request) -> Response:
    async with transaction(request.app.state.sessionmaker) as session:
        categories = await sitemaps.list_sitemap_categories(session)
    absolute = _absolute(request)
    newest = max((c.lastmod for c in categories if c.lastmod), default=None)
    entries: list[Located] = [(absolute("home"), newest)]
    entries += [(absolute("category", slug=c.slug), c.lastmod) for c in categories]
    return _xml(_document("urlset", "url", entries), request)


async def sitemap_products(request: Request) -> Response:
    settings = request.app.state.settings
    number: int = request.path_params["number"]
    async with transaction(request.app.state.sessionmaker) as session:
        products = await sitemaps.list_sitemap_products(session, number, settings.sitemap_page_size)
    if not products:
        raise HTTPException(404)
    product_url = _slug_url(request, "product")

    async def chunks() -> AsyncIterator[str]:
        yield _opening("urlset")
        for start in range(0, len(products), CHUNK):
            chunk = products[start : start + CHUNK]
            yield _entries("url", ((product_url(p.slug), p.lastmod) for p in chunk))
            await asyncio.sleep(0)  # let other requests run, even if sending never waits
        yield "</urlset>\n"

    response = StreamingResponse(chunks(), media_type=XML_TYPE)
    return cache_publicly(response, settings, KEYS)


def _absolute(request: Request) -> Callable[..., str]:
    site_url: str = request.app.state.settings.site_url
    return lambda name, **params: site_url + str(request.app.url_path_for(name, **params))


def _slug_url(request: Request, name: str) -> Callable[[str], str]:
    """`slug -> absolute URL` for route `name`, resolving the route once, not once per row."""
    head, tail = _absolute(request)(name, slug="\x00").split("\x00")
    return lambda slug: f"{head}{slug}{tail}"


def _opening(root: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{XMLNS}">\n'


def _entries(item: str, entries: Iterable[Located]) -> str:
    return "".join(
        f"<{item}><loc>{escape(loc)}</loc>"
        f"{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</{item}>\n"
        for loc, lastmod in entries
    )


def _document(root: str, item: str, entries: Iterable[Located]) -> str:
    return f"{_opening(root)}{_entries(item, entries)}</{root}>\n"


def _xml(body: str, request: Request) -> Response:
    response = Response(body, media_type=XML_TYPE)
    return cache_publicly(response, request.app.state.settings, KEYS)


routes = [
    Route("/robots.txt", robots, name="robots"),
    Route("/sitemap.xml", sitemap_index, name="sitemap_index"),
    Route("/sitemaps/categories.xml", sitemap_categories, name="sitemap_categories"),
    Route("/sitemaps/products-{number:int}.xml", sitemap_products, name="sitemap_products"),
]
