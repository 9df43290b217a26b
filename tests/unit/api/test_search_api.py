"""GET /api/v1/search: the search engine and facets of the /search page, as JSON."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio

SEARCH = "/api/v1/search"


async def _search(client: httpx.AsyncClient, **params: Any) -> Any:
    response = await client.get(SEARCH, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _title_word(client: httpx.AsyncClient) -> tuple[int, str]:
    """Product 1's longest title word, which the search index surely knows."""
    product = (await client.get("/api/v1/products/1")).json()
    return product["id"], max(product["title"].split(), key=len).lower()


async def test_a_title_word_finds_its_product_with_facets(client: httpx.AsyncClient) -> None:
    product_id, word = await _title_word(client)

    body = await _search(client, q=word, limit=100)

    assert product_id in [item["id"] for item in body["items"]]
    assert body["searched_for"] == word
    assert body["corrected_from"] is None
    assert [facet["name"] for facet in body["facets"]] == [
        "category", "price", "material", "colour", "brand",
    ]  # fmt: skip
    assert set(body["items"][0]) >= {"id", "slug", "title", "url", "price", "image"}


async def test_a_typo_is_corrected(client: httpx.AsyncClient) -> None:
    product_id, word = await _title_word(client)
    typo = word[:2] + word[3:]  # one letter dropped

    body = await _search(client, q=typo, limit=100)

    assert body["corrected_from"] == typo
    assert product_id in [item["id"] for item in body["items"]]


async def test_choosing_a_facet_value_gives_its_count(client: httpx.AsyncClient) -> None:
    everything = await _search(client)
    brand = next(facet for facet in everything["facets"] if facet["name"] == "brand")
    value = brand["values"][0]

    chosen = await _search(client, brand=value["value"], limit=1)

    assert chosen["total"] == value["count"] > 0
    chosen_brand = next(facet for facet in chosen["facets"] if facet["name"] == "brand")
    assert {"value": value["value"], "label": value["label"], "count": value["count"],
            "selected": True} in chosen_brand["values"]  # fmt: skip
    assert chosen["next"] is None or (
        f"brand={value['value'].replace(' ', '+')}" in chosen["next"]
        and chosen["next"].endswith("&page=2")
    )


async def test_a_category_scopes_the_search_like_the_product_list(
    client: httpx.AsyncClient,
) -> None:
    department = (await client.get("/api/v1/categories")).json()["items"][0]

    found = await _search(client, category=department["slug"])
    listed = (await client.get("/api/v1/products", params={"category": department["slug"]})).json()

    assert found["total"] == listed["total"]
    category_facet = next(facet for facet in found["facets"] if facet["name"] == "category")
    children = {child["slug"] for child in department["children"]}
    assert {value["value"] for value in category_facet["values"]} <= children


async def test_search_responses_are_cacheable_and_purged_by_search_key(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(SEARCH, params={"limit": 2})

    keys = response.headers["surrogate-key"].split()
    assert {"api", "search"} <= set(keys)
    assert [f"product-{item['id']}" for item in response.json()["items"]] == [
        key for key in keys if key.startswith("product-")
    ]
    again = await client.get(
        SEARCH, params={"limit": 2}, headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"price": "cheap"}, "price"),
        ({"in_stock": "yes"}, "in_stock"),
        ({"sort": "title"}, "sort"),
        ({"in_stock": ""}, "in_stock"),
        ({"q": "x" * 201}, "q"),
        ({"brand": ""}, "brand"),
        ({"brand": ["b"] * 21}, "brand"),
        ({"material": "m" * 81}, "material"),
        ({"limit": "500"}, "limit"),
        ({"page": "0"}, "page"),
    ],
    ids=["price-unknown", "in-stock-word", "in-stock-empty", "sort-unknown", "q-too-long",
         "facet-empty", "facet-too-many", "facet-too-long", "limit", "page"],
)  # fmt: skip
async def test_bad_search_parameters_are_a_400(
    client: httpx.AsyncClient, params: dict[str, Any], name: str
) -> None:
    response = await client.get(SEARCH, params=params)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"
    assert response.json()["message"].startswith(name + " ")


async def test_an_unknown_category_is_a_404(client: httpx.AsyncClient) -> None:
    response = await client.get(SEARCH, params={"category": "no-such-category"})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_nonsense_finds_nothing_calmly(client: httpx.AsyncClient) -> None:
    body = await _search(client, q="zzxqv qqqj", brand="Nobody")

    assert (body["items"], body["total"], body["next"]) == ([], 0, None)


@pytest.mark.parametrize("spelling", ["true", "1", "on"])
async def test_in_stock_takes_the_page_spellings_too(
    client: httpx.AsyncClient, spelling: str
) -> None:
    everything = await _search(client)

    body = await _search(client, in_stock=spelling, limit=100)

    assert body["total"] == everything["in_stock_count"]
    assert all(item["in_stock"] for item in body["items"])
