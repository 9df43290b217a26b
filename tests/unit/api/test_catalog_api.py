"""The read API under /api/v1 against the seeded catalog: shapes, paging, errors, caching."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import create_sessionmaker, transaction
from app.settings import Settings
from tests.conftest import SEEDED_PRODUCTS
from tests.factories.catalog import MadeProduct, make_category, make_product
from tests.factories.db import session_for

pytestmark = pytest.mark.anyio

PRODUCT_1 = "/api/v1/products/1"


async def _json(client: httpx.AsyncClient, url: str, **params: Any) -> Any:
    # httpx replaces a URL's query string with `params` when they are given, even empty ones.
    response = await client.get(url, params=params or None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


async def _walk_categories(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    tree = await _json(client, "/api/v1/categories")
    found, stack = [], list(tree["items"])
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node["children"])
    return found


# --- products ---------------------------------------------------------------------------------


async def test_the_first_page_lists_products_newest_first(client: httpx.AsyncClient) -> None:
    body = await _json(client, "/api/v1/products")

    assert set(body) == {"items", "page", "limit", "total", "next"}
    assert (body["page"], body["limit"], body["total"]) == (1, 24, SEEDED_PRODUCTS)
    assert body["next"] == "/api/v1/products?page=2&limit=24&sort=newest"
    # The seed makes product 1 the newest, each later one about ten minutes older.
    assert [item["id"] for item in body["items"]] == list(range(1, 25))
    item = body["items"][0]
    assert set(item) == {
        "id", "slug", "title", "url", "price", "compare_at_price", "in_stock", "image",
    }  # fmt: skip
    assert item["url"] == f"/products/{item['slug']}"
    assert set(item["price"]) == {"amount_minor", "currency", "amount_decimal"}
    assert item["price"]["currency"] == "EUR"
    whole, cents = divmod(item["price"]["amount_minor"], 100)
    assert item["price"]["amount_decimal"] == f"{whole}.{cents:02d}"
    assert item["image"]["src"].endswith("-640.jpg")


async def test_following_next_visits_every_product_once(client: httpx.AsyncClient) -> None:
    seen: list[int] = []
    url: str | None = "/api/v1/products?limit=7&sort=price_asc"
    pages = 0
    while url:
        body = await _json(client, url)
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
        pages += 1

    assert pages == -(-SEEDED_PRODUCTS // 7)
    assert sorted(seen) == list(range(1, SEEDED_PRODUCTS + 1))


async def test_a_page_past_the_end_is_empty_not_an_error(client: httpx.AsyncClient) -> None:
    body = await _json(client, "/api/v1/products", page=99, limit=100)

    assert body["items"] == []
    assert body["total"] == SEEDED_PRODUCTS
    assert body["next"] is None


@pytest.mark.parametrize(
    ("sort", "key", "descending"),
    [("price_asc", "price", False), ("price_desc", "price", True), ("newest", "id", False)],
    ids=["price-up", "price-down", "newest"],
)
async def test_sorts_order_the_whole_catalog(
    client: httpx.AsyncClient, sort: str, key: str, descending: bool
) -> None:
    body = await _json(client, "/api/v1/products", sort=sort, limit=100)

    values = [
        item["price"]["amount_minor"] if key == "price" else item["id"] for item in body["items"]
    ]
    assert len(values) == SEEDED_PRODUCTS
    assert values == sorted(values, reverse=descending)


async def test_title_sort_lists_every_product(client: httpx.AsyncClient) -> None:
    body = await _json(client, "/api/v1/products", sort="title", limit=100)

    assert len({item["id"] for item in body["items"]}) == SEEDED_PRODUCTS


async def test_a_category_lists_its_subcategories_products_too(client: httpx.AsyncClient) -> None:
    tree = await _json(client, "/api/v1/categories")
    department = next(node for node in tree["items"] if node["children"])

    whole = await client.get("/api/v1/products", params={"category": department["slug"]})
    parts = [
        (await _json(client, "/api/v1/products", category=child["slug"]))["total"]
        for child in department["children"]
    ]

    assert whole.json()["total"] == sum(parts) > 0
    keys = whole.headers["surrogate-key"].split()
    assert f"category-{department['id']}" in keys
    assert all(f"category-{child['id']}" in keys for child in department["children"])
    assert whole.json()["next"] in (None, f"/api/v1/products?category={department['slug']}"
                                    "&page=2&limit=24&sort=newest")  # fmt: skip


async def test_an_empty_category_has_no_products_and_no_next(
    client: httpx.AsyncClient, database_url: str
) -> None:
    engine = create_async_engine(database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            await make_category(session, "Empty shelf")
    finally:
        await engine.dispose()
    empty = next(c for c in await _walk_categories(client) if c["name"] == "Empty shelf")

    body = await _json(client, "/api/v1/products", category=empty["slug"])

    assert (body["items"], body["total"], body["next"]) == ([], 0, None)


async def test_unknown_query_parameters_are_ignored(client: httpx.AsyncClient) -> None:
    plain = await client.get("/api/v1/products")
    extra = await client.get("/api/v1/products", params={"colour": "red", "utm_source": "x"})

    assert extra.status_code == 200
    assert extra.json() == plain.json()


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"page": "0"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "abc"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"page": ""}, "page"),
        ({"page": "²"}, "page"),
        ({"page": "99999999999999999999"}, "page"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"sort": "cheapest"}, "sort"),
        ({"sort": ""}, "sort"),
        ({"category": ""}, "category"),
        ({"category": "x" * 121}, "category"),
        ({"category": "a\x00b"}, "category"),
    ],
    ids=["page-zero", "page-negative", "page-word", "page-fraction", "page-empty",
         "page-superscript", "page-huge", "limit-zero", "limit-too-big", "limit-word",
         "sort-unknown", "sort-empty", "category-empty", "category-too-long", "category-nul"],
)  # fmt: skip
async def test_bad_parameters_are_a_400_naming_the_parameter(
    client: httpx.AsyncClient, params: dict[str, str], name: str
) -> None:
    response = await client.get("/api/v1/products", params=params)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert body["message"].startswith(name + " ")
    assert set(body) == {"code", "message"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/products?category=no-such-category",
        "/api/v1/products?category=Not%20A%20Slug!",
        "/api/v1/products/no-such-product",
        "/api/v1/products/999999",
        "/api/v1/products/99999999999999999999",
        "/api/v1/products/0",
        "/api/v1/products/%C3%A9t%C3%A9",
        "/api/v1/products/a%00b",
        "/api/v1/products/no-such-product/variants",
        "/api/v1/nothing-here",
    ],
    ids=["category", "category-not-a-slug", "slug", "id", "id-huge", "id-zero", "unicode",
         "nul", "variants", "no-route"],
)  # fmt: skip
async def test_unknown_things_are_a_404_not_found(client: httpx.AsyncClient, url: str) -> None:
    response = await client.get(url)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.headers["cache-control"] == "private, no-store"


async def test_writes_are_refused_with_a_stable_code(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/products")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


# --- one product ------------------------------------------------------------------------------


async def test_a_product_by_id_and_by_slug_is_the_same_document(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    by_id = await _json(client, PRODUCT_1)
    by_slug = await _json(client, f"/api/v1/products/{by_id['slug']}")

    assert by_slug == by_id
    assert by_id["canonical_url"] == f"{settings.site_url}/products/{by_id['slug']}"
    assert by_id["category"] == by_id["breadcrumbs"][-1]
    assert by_id["breadcrumbs"][0]["url"].startswith("/categories/")
    assert len(by_id["variants"]) >= 2  # the seed promises product 1 two variants, in stock
    assert by_id["in_stock"] is True
    assert by_id["price"]["amount_minor"] == min(
        v["price"]["amount_minor"] for v in by_id["variants"]
    )
    image = by_id["images"][0]
    assert {(f["format"], f["width"]) for f in image["files"]} == {
        (fmt, width) for fmt in ("webp", "jpeg") for width in (320, 640, 960)
    }
    assert all(f["url"].startswith("/media/products/") for f in image["files"])


async def test_images_in_the_api_are_files_the_shop_serves(client: httpx.AsyncClient) -> None:
    product = await _json(client, PRODUCT_1)

    response = await client.get(product["images"][0]["files"][0]["url"])

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"


async def test_variants_carry_sku_options_price_and_availability(
    client: httpx.AsyncClient,
) -> None:
    body = await _json(client, f"{PRODUCT_1}/variants")

    assert body["product_id"] == 1
    variant = body["items"][0]
    assert set(variant) == {
        "id", "sku", "title", "options", "price", "compare_at_price", "stock_level",
        "availability",
    }  # fmt: skip
    assert variant["sku"].startswith("EC-000001-")
    assert all(isinstance(value, str) for value in variant["options"].values())
    assert body["items"] == (await _json(client, PRODUCT_1))["variants"]


@pytest.mark.parametrize(
    ("stock", "availability"),
    [((40,), "in_stock"), ((5,), "low_stock"), ((1,), "low_stock"), ((0,), "out_of_stock")],
    ids=["plenty", "five-left", "one-left", "none"],
)
async def test_availability_follows_the_stock_level(
    client: httpx.AsyncClient, database_url: str, stock: tuple[int, ...], availability: str
) -> None:
    made = await _make(database_url, stock=stock)

    body = await _json(client, f"/api/v1/products/{made.slug}/variants")

    assert body["items"][0]["availability"] == availability
    assert body["items"][0]["stock_level"] == stock[0]


async def test_a_product_without_variants_or_images_has_no_price(
    client: httpx.AsyncClient, database_url: str
) -> None:
    made = await _make(database_url, stock=())

    body = await _json(client, f"/api/v1/products/{made.id}")
    listed = await _json(client, "/api/v1/products", sort="price_desc", limit=100)

    assert (body["price"], body["in_stock"], body["variants"], body["images"]) == (
        None, False, [], []
    )  # fmt: skip
    summary = next(item for item in listed["items"] if item["id"] == made.id)
    assert (summary["price"], summary["image"]) == (None, None)


async def _make(database_url: str, stock: tuple[int, ...]) -> MadeProduct:
    async with session_for(database_url) as session:
        return await make_product(session, title="Enamel Mug", stock=stock, price_minor=1899)


# --- categories -------------------------------------------------------------------------------


async def test_the_category_tree_nests_every_category(client: httpx.AsyncClient) -> None:
    tree = await _json(client, "/api/v1/categories")
    everything = await _walk_categories(client)

    assert len(tree["items"]) == 6
    assert all(node["children"] for node in tree["items"])
    assert len(everything) == 33
    assert {tuple(sorted(node)) for node in everything} == {
        ("children", "description", "id", "name", "slug", "url")
    }


# --- caching ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "keys"),
    [
        ("/api/v1/products?limit=2", {"api", "product-1", "product-2"}),
        (PRODUCT_1, {"api", "product-1"}),
        (f"{PRODUCT_1}/variants", {"api", "product-1"}),
        ("/api/v1/categories", {"api", "category-1"}),
        ("/api/v1/openapi.json", {"api"}),
        ("/api/v1/docs", {"api"}),
    ],
    ids=["list", "product", "variants", "categories", "openapi", "docs"],
)
async def test_every_response_is_public_and_names_what_it_shows(
    client: httpx.AsyncClient, url: str, keys: set[str]
) -> None:
    response = await client.get(url)

    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert "s-maxage=" in response.headers["cache-control"]
    assert keys <= set(response.headers["surrogate-key"].split())
    assert "set-cookie" not in response.headers


async def test_a_product_names_its_category_trail(client: httpx.AsyncClient) -> None:
    response = await client.get(PRODUCT_1)

    keys = set(response.headers["surrogate-key"].split())
    assert {f"category-{c['id']}" for c in response.json()["breadcrumbs"]} <= keys


async def test_a_matching_etag_gets_304_with_the_cache_headers(
    client: httpx.AsyncClient,
) -> None:
    first = await client.get(PRODUCT_1)
    etag = first.headers["etag"]

    again = await client.get(PRODUCT_1, headers={"If-None-Match": etag})
    listed = await client.get(PRODUCT_1, headers={"If-None-Match": f'"nope", {etag}'})
    stale = await client.get(PRODUCT_1, headers={"If-None-Match": '"nope"'})

    assert etag.startswith('W/"')
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert again.headers["surrogate-key"] == first.headers["surrogate-key"]
    assert listed.status_code == 304
    assert stale.status_code == 200
    assert stale.json() == first.json()


async def test_the_etag_survives_gzip(client: httpx.AsyncClient) -> None:
    zipped = await client.get("/api/v1/categories", headers={"Accept-Encoding": "gzip"})

    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    again = await client.get(
        "/api/v1/categories",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]},
    )
    assert again.status_code == 304
