"""The search pages over HTTP: parameters, cache headers, pages and fragments, no results."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import create_sessionmaker, transaction
from app.search import service as search
from tests.factories.search import make_searchable_product

pytestmark = pytest.mark.anyio

RESULT = 'data-testid="search-result"'


async def _add_product(database_url: str, title: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            made = await make_searchable_product(session, title)
            await search.reindex_products(session, [made.id])
            return made.id
    finally:
        await engine.dispose()


def _result_count(html: str) -> int:
    return html.count(RESULT)


@pytest.mark.parametrize(
    "params",
    [{"page": "0"}, {"page": "-1"}, {"page": "two"}, {"page": "99999999"}, {"page": "\u00b2"},
     {"sort": "cheapest"}, {"price": "free"}, {"in_stock": "maybe"},
     {"category": "no-such-category"}, {"q": "x" * 201}, {"brand": "b" * 81},
     {"q": ["a", "b"]}],
    ids=["page-0", "page-negative", "page-word", "page-absurd", "page-superscript", "sort",
         "price", "in-stock",
         "category", "q-too-long", "value-too-long", "q-twice"],
)  # fmt: skip
async def test_bad_parameters_are_a_calm_400(
    client: httpx.AsyncClient, params: dict[str, str | list[str]]
) -> None:
    response = await client.get("/search", params=params)

    assert response.status_code == 400
    assert "request-id" in response.text
    assert "Traceback" not in response.text
    assert response.headers["cache-control"] == "private, no-store"


async def test_results_are_public_cacheable_and_name_every_product_shown(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/search")

    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public")
    assert "s-maxage=" in response.headers["cache-control"]
    assert "set-cookie" not in response.headers
    assert "HX-Request" in response.headers["vary"]
    keys = response.headers["surrogate-key"].split()
    assert keys[0] == "search"
    shown = re.findall(r'href="/products/[^"]*-(\d+)"', response.text)
    assert shown
    assert {f"product-{id_}" for id_ in shown} <= set(keys)
    assert _result_count(response.text) == 24
    assert 'data-testid="facet"' in response.text
    assert '<meta name="robots" content="noindex, follow">' in response.text


async def test_a_typo_is_corrected_and_said_so(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await _add_product(database_url, "Zanzibar Quilt")

    response = await client.get("/search", params={"q": "zanzibr"})

    assert response.status_code == 200
    assert _result_count(response.text) == 1
    assert "Zanzibar Quilt" in response.text
    assert 'data-testid="search-corrected"' in response.text
    assert 'value="zanzibr"' in response.text  # the header keeps what the shopper typed


async def test_no_results_offers_did_you_mean_and_departments(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await _add_product(database_url, "Zanzibar Quilt")

    response = await client.get("/search", params={"q": "zanzobor"})  # two letters off

    assert response.status_code == 200
    assert _result_count(response.text) == 0
    assert 'data-testid="no-results"' in response.text
    link = re.search(r'<a href="([^"]+)" data-testid="did-you-mean">([^<]+)</a>', response.text)
    assert link
    assert link.groups() == ("/search?q=zanzibar", "zanzibar")
    assert re.search(r'aria-label="Popular categories">\s*<li><a class="chip"', response.text)


async def test_nothing_like_any_word_has_no_did_you_mean(client: httpx.AsyncClient) -> None:
    response = await client.get("/search", params={"q": "qqqxq"})

    assert response.status_code == 200
    assert 'data-testid="no-results"' in response.text
    assert 'data-testid="did-you-mean"' not in response.text


async def test_load_more_answers_htmx_with_one_page_and_a_reload_with_the_list(
    client: httpx.AsyncClient,
) -> None:
    fragment = await client.get("/search", params={"page": "2"}, headers={"HX-Request": "true"})
    page = await client.get("/search", params={"page": "2"})

    # htmx appends one page and swaps the pager out of band
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert _result_count(fragment.text) == 24
    assert 'id="pager" aria-label="More products" hx-swap-oob="true"' in fragment.text
    assert 'href="/search?page=3"' in fragment.text
    # a reload (or the back button) shows pages 1 and 2, as the shopper last saw them
    assert "<html" in page.text
    assert _result_count(page.text) == 48
    assert fragment.headers["vary"] == page.headers["vary"]
    assert "HX-Request" in page.headers["vary"]


async def test_a_page_past_the_last_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/search", params={"page": "50"})

    assert response.status_code == 404


async def test_facet_links_and_the_form_keep_the_other_choices(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/search", params={"in_stock": "1", "sort": "price_asc"})

    assert response.status_code == 200
    assert '<option value="price_asc" selected>' in response.text
    assert re.search(r'name="in_stock" value="1" checked', response.text)
    category_link = re.search(
        r'href="(/search\?category=[^"]+)" data-testid="facet"', response.text
    )
    assert category_link
    assert category_link.group(1).endswith("&amp;in_stock=1&amp;sort=price_asc")


async def test_suggestions_are_options_for_the_combobox(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    title = re.findall(r'data-testid="product-title">([^<]+)<', home.text)[0]
    prefix = title.split()[0][:4]

    response = await client.get("/search/suggest", params={"q": prefix})

    assert response.status_code == 200
    assert "<html" not in response.text
    options = re.findall(r'role="option" id="suggestion-(\d+)"', response.text)
    assert 1 <= len(options) <= 8
    assert response.headers["cache-control"].startswith("public")
    assert "search" in response.headers["surrogate-key"].split()


async def test_no_suggestions_for_a_single_letter(client: httpx.AsyncClient) -> None:
    response = await client.get("/search/suggest", params={"q": "a"})

    assert response.status_code == 200
    assert response.text.strip() == ""


async def test_category_pages_have_facets_and_refuse_bad_ones(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    slug = re.findall(r'href="/categories/([^"]+)"', home.text)[0]

    page = await client.get(f"/categories/{slug}")
    brand = re.search(
        r'name="brand" value="([^"]+)"> [^<]+ <span class="facet__count">\((\d+)\)', page.text
    )
    assert brand
    value = html.unescape(brand.group(1))
    narrowed = await client.get(f"/categories/{slug}", params={"brand": value})
    refused = await client.get(f"/categories/{slug}", params={"sort": "random"})

    assert page.status_code == 200
    assert narrowed.status_code == 200
    assert narrowed.text.count('data-testid="product-card"') == int(brand.group(2))
    assert re.search(rf'value="{re.escape(brand.group(1))}" checked', narrowed.text)
    assert refused.status_code == 400
