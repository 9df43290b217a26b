from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def _first_product_path(client: httpx.AsyncClient) -> str:
    home = await client.get("/")
    match = re.search(r'href="(/products/[^"]+)"', home.text)
    assert match, "the home page links to no product"
    return match.group(1)


async def test_home_lists_featured_products_with_the_test_id_contract(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert response.text.count('data-testid="product-card"') >= 8
    assert 'data-testid="product-price"' in response.text
    assert 'data-testid="search-input"' in response.text


async def test_public_pages_are_cacheable_at_the_edge_and_set_no_cookie(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/")

    assert "s-maxage=" in response.headers["cache-control"]
    assert response.headers["cache-control"].startswith("public")
    assert "set-cookie" not in response.headers
    assert "HX-Request" in response.headers["vary"]
    assert "home" in response.headers["surrogate-key"].split()
    assert "product-1" in response.headers["surrogate-key"].split()


async def test_category_page_paginates_with_real_urls(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    slug = re.findall(r'href="/categories/([^"]+)"', home.text)[0]

    first = await client.get(f"/categories/{slug}")

    assert first.status_code == 200
    assert 'data-testid="product-card"' in first.text
    keys = first.headers["surrogate-key"].split()
    assert any(key.startswith("category-") for key in keys)
    assert any(key.startswith("product-") for key in keys)


async def test_category_page_beyond_the_last_is_404(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    slug = re.findall(r'href="/categories/([^"]+)"', home.text)[0]

    response = await client.get(f"/categories/{slug}?page=9999")

    assert response.status_code == 404


@pytest.mark.parametrize(
    "number",
    ["0", "-1", "abc", "99999999", "\u00b2"],
    ids=["zero", "negative", "word", "huge", "superscript-two"],
)
async def test_a_bad_page_number_is_a_clear_400(client: httpx.AsyncClient, number: str) -> None:
    home = await client.get("/")
    slug = re.findall(r'href="/categories/([^"]+)"', home.text)[0]

    response = await client.get(f"/categories/{slug}", params={"page": number})

    assert response.status_code == 400
    assert "request-id" in response.text


async def test_product_page_shows_title_price_stock_and_the_buy_form(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(await _first_product_path(client))

    assert response.status_code == 200
    for test_id in ("product-title", "product-price", "stock-level", "variant-select",
                    "quantity-input", "add-to-cart"):  # fmt: skip
        assert f'data-testid="{test_id}"' in response.text, test_id
    assert re.search(r'data-testid="product-price">€\d+\.\d\d<', response.text)
    assert re.search(r'srcset="/media/products/[^"]+-320\.webp 320w', response.text)


async def test_unknown_product_is_a_calm_404_with_the_request_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/products/no-such-thing", headers={"X-Request-ID": "qa-trace-0001"}
    )

    assert response.status_code == 404
    assert response.headers["x-request-id"] == "qa-trace-0001"
    assert "qa-trace-0001" in response.text
    assert response.headers["cache-control"] == "private, no-store"


async def test_a_made_up_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "<script>"})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_fragments_are_private(client: httpx.AsyncClient) -> None:
    for path in ("/fragments/me",):
        response = await client.get(path, headers={"HX-Request": "true"})

        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-store"
        assert "set-cookie" not in response.headers


async def test_static_files_are_hashed_compressed_and_immutable(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', home.text)
    assert css, "the page does not link the hashed stylesheet"

    response = await client.get(css.group(1), headers={"Accept-Encoding": "br"})

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "br"
    assert "immutable" in response.headers["cache-control"]
    assert "max-age=31536000" in response.headers["cache-control"]
