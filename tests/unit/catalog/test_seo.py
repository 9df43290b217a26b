"""SEO: titles, descriptions, canonical links, Open Graph, JSON-LD, robots.txt and sitemaps."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import create_sessionmaker, transaction
from app.settings import Settings, SettingsError
from tests.conftest import SEEDED_PRODUCTS
from tests.factories.catalog import MadeProduct, make_product

pytestmark = pytest.mark.anyio

SITE = "https://shop.example"
SITEMAP_PAGE = 25
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shop at a public address other than the test client's host, with small pages."""
    return replace(settings, site_url=SITE, sitemap_page_size=SITEMAP_PAGE, page_size=4)


async def _make(database_url: str, **fields: Any) -> MadeProduct:
    engine = create_async_engine(database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            return await make_product(session, **fields)
    finally:
        await engine.dispose()


def _head(html: str) -> str:
    return html.split("</head>", 1)[0]


def _canonical(html: str) -> str | None:
    links = re.findall(r'<link rel="canonical" href="([^"]*)">', _head(html))
    assert len(links) <= 1
    return links[0] if links else None


def _meta(html: str, attribute: str, name: str) -> str | None:
    found = re.findall(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', _head(html))
    assert len(found) <= 1, name
    return found[0] if found else None


def _title(html: str) -> str:
    match = re.search(r"<title>([^<]*)</title>", html)
    assert match
    return match.group(1)


def _json_ld(html: str) -> dict[str, dict[str, Any]]:
    """The page's JSON-LD documents by @type (each must parse as JSON)."""
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    documents = [json.loads(script) for script in scripts]
    return {document["@type"]: document for document in documents}


async def _category_slug(client: httpx.AsyncClient) -> str:
    home = await client.get("/")
    return re.findall(r'href="/categories/([^"]+)"', home.text)[0]


# --- canonical links ------------------------------------------------------------------------------


async def test_canonical_urls_come_from_site_url_not_the_request_host(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/", headers={"Host": "attacker.example"})

    assert _canonical(response.text) == f"{SITE}/"
    assert "attacker.example" not in response.text


async def test_product_canonical_drops_the_variant_and_any_other_parameter(
    client: httpx.AsyncClient, database_url: str
) -> None:
    made = await _make(database_url, stock=(1, 2))

    response = await client.get(
        f"/products/{made.slug}", params={"variant": made.variant_ids[1], "utm_source": "mail"}
    )

    assert _canonical(response.text) == f"{SITE}/products/{made.slug}"
    assert _meta(response.text, "property", "og:url") == f"{SITE}/products/{made.slug}"


@pytest.mark.parametrize(
    ("query", "expected"),
    [({}, ""), ({"page": "1"}, ""), ({"page": "2"}, "?page=2"),
     ({"page": "2", "sort": "price_asc", "utm_source": "mail"}, "?page=2"),
     ({"sort": "price_desc", "in_stock": "1", "price": "25-50"}, "")],
    ids=["first-page", "page-1", "page-2", "page-2-faceted-and-sorted", "faceted"],
)  # fmt: skip
async def test_category_canonical_keeps_only_a_page_past_the_first(
    client: httpx.AsyncClient, query: dict[str, str], expected: str
) -> None:
    slug = await _category_slug(client)

    response = await client.get(f"/categories/{slug}", params=query)

    assert response.status_code == 200
    assert _canonical(response.text) == f"{SITE}/categories/{slug}{expected}"


async def test_error_pages_have_no_canonical_and_are_not_indexed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/products/no-such-thing")

    assert response.status_code == 404
    assert _canonical(response.text) is None
    assert _meta(response.text, "name", "robots") == "noindex"
    assert _title(response.text) == "Not found · Edgecart"


# --- titles, descriptions and Open Graph ----------------------------------------------------------


async def test_every_page_has_its_own_title_and_description(
    client: httpx.AsyncClient, database_url: str
) -> None:
    made = await _make(database_url, title="Enamel Camping Mug")
    slug = await _category_slug(client)
    seeded = await _first_product_slug(client)
    paths = ["/", f"/categories/{slug}", f"/categories/{slug}?page=2", "/products/1-nothing",
             f"/products/{made.slug}", f"/products/{seeded}"]  # fmt: skip

    pages = [(await client.get(path)).text for path in paths]

    titles = [_title(html) for html in pages]
    descriptions = [_meta(html, "name", "description") for html in pages]
    assert len(set(titles)) == len(paths), titles
    assert len(set(descriptions)) == len(paths), descriptions
    assert all(descriptions)
    assert "page 2" in titles[2]
    assert "Page 2 of" in (descriptions[2] or "")
    assert titles[4].startswith("Enamel Camping Mug")
    assert "€12.50" in (descriptions[4] or "")


async def _first_product_slug(client: httpx.AsyncClient) -> str:
    home = await client.get("/")
    return re.findall(r'href="/products/([^"]+)"', home.text)[0]


async def test_product_open_graph_tags_are_absolute(client: httpx.AsyncClient) -> None:
    slug = await _first_product_slug(client)

    html = (await client.get(f"/products/{slug}")).text

    assert _meta(html, "property", "og:type") == "product"
    assert _meta(html, "property", "og:url") == f"{SITE}/products/{slug}"
    image = _meta(html, "property", "og:image") or ""
    assert re.fullmatch(rf"{re.escape(SITE)}/media/products/[\w-]+-960\.jpg", image)
    title = _meta(html, "property", "og:title")
    assert title
    assert _title(html) == f"{title} · Edgecart"
    assert _meta(html, "property", "og:description") == _meta(html, "name", "description")


async def test_home_and_category_are_websites_in_open_graph(client: httpx.AsyncClient) -> None:
    slug = await _category_slug(client)

    for path in ("/", f"/categories/{slug}"):
        html = (await client.get(path)).text

        assert _meta(html, "property", "og:type") == "website"
        assert (_meta(html, "property", "og:url") or "").startswith(f"{SITE}/")
        assert (_meta(html, "property", "og:image") or "").startswith(f"{SITE}/media/")


# --- JSON-LD --------------------------------------------------------------------------------------


async def test_product_json_ld_has_an_offer_per_variant_with_price_and_availability(
    client: httpx.AsyncClient, database_url: str
) -> None:
    made = await _make(
        database_url,
        title="Enamel Mug",
        stock=(0, 7),
        prices=(1899, 2450),
        options=({"colour": "Cream"}, {"colour": "Black"}),
    )

    html = (await client.get(f"/products/{made.slug}")).text

    product = _json_ld(html)["Product"]
    assert product["@context"] == "https://schema.org"
    assert product["name"] == "Enamel Mug"
    assert product["url"] == f"{SITE}/products/{made.slug}"
    offers = product["offers"]
    assert [offer["price"] for offer in offers] == ["18.99", "24.50"]
    assert {offer["priceCurrency"] for offer in offers} == {"EUR"}
    assert [offer["availability"] for offer in offers] == [
        "https://schema.org/OutOfStock",
        "https://schema.org/InStock",
    ]
    assert [offer["url"] for offer in offers] == [
        f"{SITE}/products/{made.slug}?variant={variant_id}" for variant_id in made.variant_ids
    ]
    assert all(re.fullmatch(r"TEST-\d+-\d", offer["sku"]) for offer in offers)


async def test_seeded_product_json_ld_lists_absolute_images(client: httpx.AsyncClient) -> None:
    slug = await _first_product_slug(client)

    product = _json_ld((await client.get(f"/products/{slug}")).text)["Product"]

    assert product["image"]
    assert all(url.startswith(f"{SITE}/media/products/") for url in product["image"])
    assert product["brand"]["@type"] == "Brand"
    assert all(re.fullmatch(r"\d+\.\d\d", offer["price"]) for offer in product["offers"])


async def test_product_breadcrumbs_run_from_home_to_the_product(client: httpx.AsyncClient) -> None:
    slug = await _first_product_slug(client)

    html = (await client.get(f"/products/{slug}")).text

    crumbs = _json_ld(html)["BreadcrumbList"]["itemListElement"]
    assert [crumb["position"] for crumb in crumbs] == list(range(1, len(crumbs) + 1))
    assert crumbs[0] == {"@type": "ListItem", "position": 1, "name": "Home", "item": f"{SITE}/"}
    assert crumbs[-1]["item"] == f"{SITE}/products/{slug}"
    assert all(c["item"].startswith(f"{SITE}/categories/") for c in crumbs[1:-1])
    assert len(crumbs) >= 3


async def test_category_page_has_breadcrumbs_ending_in_itself(client: httpx.AsyncClient) -> None:
    slug = await _category_slug(client)

    documents = _json_ld((await client.get(f"/categories/{slug}")).text)

    crumbs = documents["BreadcrumbList"]["itemListElement"]
    assert crumbs[-1]["item"] == f"{SITE}/categories/{slug}"
    assert "Product" not in documents


async def test_json_ld_cannot_end_its_script_element(
    client: httpx.AsyncClient, database_url: str
) -> None:
    title = "Mug </script><script>alert(1)</script> <!-- & co"
    made = await _make(database_url, title=title)

    html = (await client.get(f"/products/{made.slug}")).text

    assert "<script>alert(1)" not in html
    assert _json_ld(html)["Product"]["name"] == title


# --- robots.txt and sitemaps ----------------------------------------------------------------------


def _cached_for_everyone(response: httpx.Response) -> None:
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public")
    assert "s-maxage=" in response.headers["cache-control"]
    assert "sitemap" in response.headers["surrogate-key"].split()
    assert "set-cookie" not in response.headers


async def test_robots_txt_keeps_crawlers_out_of_personal_pages_and_names_the_sitemap(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/robots.txt", headers={"Host": "attacker.example"})

    _cached_for_everyone(response)
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert lines[:2] == ["User-agent: *", "Allow: /"]
    for path in ("/cart", "/checkout", "/account", "/admin", "/fragments", "/api/"):
        assert f"Disallow: {path}" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines


def _xml(response: httpx.Response) -> ElementTree.Element:
    _cached_for_everyone(response)
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ElementTree.fromstring(response.content)  # noqa: S314 (our own output)


def _lastmod_is_w3c(element: ElementTree.Element) -> None:
    lastmod = element.findtext("sm:lastmod", namespaces=NS)
    assert lastmod
    assert datetime.fromisoformat(lastmod).utcoffset() is not None


async def test_sitemap_index_lists_categories_and_product_files_of_bounded_size(
    client: httpx.AsyncClient,
) -> None:
    index = _xml(await client.get("/sitemap.xml"))

    assert index.tag == f"{{{NS['sm']}}}sitemapindex"
    entries = index.findall("sm:sitemap", NS)
    locations = [entry.findtext("sm:loc", namespaces=NS) for entry in entries]
    files = -(-SEEDED_PRODUCTS // SITEMAP_PAGE)
    assert locations == [
        f"{SITE}/sitemaps/categories.xml",
        *(f"{SITE}/sitemaps/products-{n}.xml" for n in range(1, files + 1)),
    ]
    for entry in entries:
        _lastmod_is_w3c(entry)

    # Every product file holds at most SITEMAP_PAGE URLs, and all of them together every product.
    product_urls: list[str] = []
    for location in locations[1:]:
        assert location
        urlset = _xml(await client.get(location.removeprefix(SITE)))
        urls = urlset.findall("sm:url", NS)
        assert 0 < len(urls) <= SITEMAP_PAGE
        for url in urls:
            _lastmod_is_w3c(url)
        product_urls += [url.findtext("sm:loc", namespaces=NS) or "" for url in urls]
    assert len(product_urls) == len(set(product_urls)) == SEEDED_PRODUCTS
    assert all(re.fullmatch(rf"{re.escape(SITE)}/products/[\w-]+", u) for u in product_urls)


async def test_every_sitemap_url_is_a_page_that_exists(client: httpx.AsyncClient) -> None:
    categories = _xml(await client.get("/sitemaps/categories.xml"))
    products = _xml(await client.get("/sitemaps/products-1.xml"))

    locations = [
        url.findtext("sm:loc", namespaces=NS) or ""
        for urlset in (categories, products)
        for url in urlset.findall("sm:url", NS)
    ]

    assert locations[0] == f"{SITE}/"
    assert sum(loc.startswith(f"{SITE}/categories/") for loc in locations) == 33
    for location in locations[:3] + locations[-3:]:
        assert (await client.get(location.removeprefix(SITE))).status_code == 200


async def test_a_sitemap_file_past_the_last_is_404(client: httpx.AsyncClient) -> None:
    files = -(-SEEDED_PRODUCTS // SITEMAP_PAGE)

    for number in (0, files + 1, 99999):
        response = await client.get(f"/sitemaps/products-{number}.xml")

        assert response.status_code == 404


async def test_sitemap_of_an_empty_shop_is_still_valid(
    client: httpx.AsyncClient, database_url: str
) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.exec_driver_sql(
                "TRUNCATE stock_level, product_image, product_variant, product CASCADE"
            )
    finally:
        await engine.dispose()

    index = _xml(await client.get("/sitemap.xml"))

    assert [e.findtext("sm:loc", namespaces=NS) for e in index.findall("sm:sitemap", NS)] == [
        f"{SITE}/sitemaps/categories.xml"
    ]
    categories = _xml(await client.get("/sitemaps/categories.xml"))
    assert len(categories.findall("sm:url", NS)) == 34


# --- settings -------------------------------------------------------------------------------------


def test_site_url_defaults_to_the_local_shop_and_loses_a_trailing_slash() -> None:
    assert Settings.from_env({}).site_url == "http://127.0.0.1:8000"
    assert Settings.from_env({"SITE_URL": "https://shop.example/"}).site_url == SITE
    assert Settings.from_env({"SITE_URL": "https://example.com/shop"}).site_url == (
        "https://example.com/shop"
    )


@pytest.mark.parametrize(
    "value", ["shop.example", "ftp://shop.example", "https://shop.example/?a=1", "https://"]
)
def test_site_url_must_be_a_plain_http_address(value: str) -> None:
    with pytest.raises(SettingsError, match="SITE_URL"):
        Settings.from_env({"SITE_URL": value})


@pytest.mark.parametrize("value", ["0", "50001", "many"])
def test_sitemap_page_size_stays_within_the_protocol(value: str) -> None:
    with pytest.raises(SettingsError, match="SITEMAP_PAGE_SIZE"):
        Settings.from_env({"SITEMAP_PAGE_SIZE": value})
