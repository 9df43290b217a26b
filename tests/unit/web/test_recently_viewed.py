"""The "Recently viewed" hole of product pages: /fragments/me?viewing=<id> remembers the product
in the visitor's session and answers the ones viewed before it, out of band. Without a session
nothing is remembered (the fragment never starts one)."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import text

from tests.factories.accounts import make_account
from tests.factories.db import session_for
from tests.unit.accounts.conftest import sign_in

pytestmark = pytest.mark.anyio

_SECTION = re.compile(r'<section[^>]*id="recently-viewed"[^>]*>(.*?)</section>', re.S)


async def _products(database_url: str, n: int) -> list[tuple[int, str, str]]:
    async with session_for(database_url) as session:
        rows = await session.execute(
            text("SELECT id, slug, title FROM product ORDER BY id LIMIT :n"), {"n": n}
        )
        return [(row[0], row[1], row[2]) for row in rows]


def _titles_shown(html: str) -> list[str]:
    section = _SECTION.search(html)
    assert section is not None, html
    return re.findall(
        r'data-testid="product-title"[^>]*>\s*(?:<a[^>]*>)?([^<]+)<', section.group(1)
    )


async def test_the_product_page_has_an_empty_hole_for_everyone(
    client: httpx.AsyncClient, database_url: str
) -> None:
    (product_id, slug, _), *_ = await _products(database_url, 1)

    page = await client.get(f"/products/{slug}")

    assert f'id="recently-viewed" data-product-id="{product_id}" hidden' in page.text


async def test_products_viewed_before_are_shown_newest_first_without_the_current_one(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")
    await sign_in(client, "ada@example.com")
    (first, _, first_title), (second, _, second_title), (third, _, third_title) = await _products(
        database_url, 3
    )

    on_first = await client.get(f"/fragments/me?viewing={first}")
    await client.get(f"/fragments/me?viewing={second}")
    on_third = await client.get(f"/fragments/me?viewing={third}")
    back_on_first = await client.get(f"/fragments/me?viewing={first}")
    elsewhere = await client.get("/fragments/me")

    assert 'id="recently-viewed" hx-swap-oob="outerHTML"' in on_first.text
    assert _titles_shown(on_first.text) == []  # nothing viewed before: the hole stays hidden
    assert _titles_shown(on_third.text) == [second_title, first_title]
    assert _titles_shown(back_on_first.text) == [third_title, second_title]
    assert "recently-viewed" not in elsewhere.text  # not a product page: no such hole
    assert on_third.headers["cache-control"] == "private, no-store"


async def test_without_a_session_nothing_is_remembered_or_set(
    client: httpx.AsyncClient, database_url: str
) -> None:
    (first, _, _), (second, _, _) = await _products(database_url, 2)

    await client.get(f"/fragments/me?viewing={first}")
    answer = await client.get(f"/fragments/me?viewing={second}")

    assert "set-cookie" not in answer.headers
    assert "recently-viewed" not in answer.text


@pytest.mark.parametrize("viewing", ["abc", "-1", "0", "²", "99999999999"])
async def test_a_bad_product_id_is_ignored(
    client: httpx.AsyncClient, database_url: str, viewing: str
) -> None:
    await make_account(database_url, "ada@example.com")
    await sign_in(client, "ada@example.com")

    answer = await client.get("/fragments/me", params={"viewing": viewing})

    assert answer.status_code == 200
    assert "recently-viewed" not in answer.text
