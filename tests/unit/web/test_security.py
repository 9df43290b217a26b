"""Security headers on every kind of response, and no cookie on anything the edge may cache."""

from __future__ import annotations

import re

import httpx
import pytest

from app.main import create_starlette, serve_static
from app.settings import Settings
from tests.factories.accounts import make_account
from tests.unit.accounts.conftest import sign_in

pytestmark = pytest.mark.anyio

PUBLIC_PAGES = [
    "/", "/categories/clothing", "/search?q=sweater", "/search/suggest?q=swe",
    "/collections/new-in", "/api/v1/products", "/sitemap.xml", "/robots.txt",
]  # fmt: skip


async def _a_product_path(client: httpx.AsyncClient) -> str:
    home = (await client.get("/")).text
    found = re.search(r'href="(/products/[^"?]+)"', home)
    assert found
    return found.group(1)


async def test_pages_carry_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response.headers["permissions-policy"]
    assert "strict-transport-security" not in response.headers  # plain http in tests


async def test_static_files_and_errors_carry_the_headers_too(client: httpx.AsyncClient) -> None:
    css = re.search(r'href="(/static/css/site\.[0-9a-f]+\.css)"', (await client.get("/")).text)
    assert css
    for response in (await client.get(css.group(1)), await client.get("/no-such-page")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_production_adds_hsts(settings: Settings) -> None:
    production = Settings(**{**settings.__dict__, "environment": "production",
                             "secret_key": settings.secret_key})  # fmt: skip
    app = serve_static(create_starlette(production), production)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://shop.test"
    ) as http:
        response = await http.get("/healthz")

    assert response.headers["strict-transport-security"].startswith("max-age=63072000")


async def test_no_page_has_an_inline_script_or_handler(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com", role="owner")
    pages = [*PUBLIC_PAGES[:5], await _a_product_path(client), "/account/login",
             "/account/register", "/account/password-reset"]  # fmt: skip
    await sign_in(client, "ada@example.com")
    pages += ["/account", "/account/password", "/account/addresses/new", "/admin"]

    for path in pages:
        html = (await client.get(path)).text
        scripts = re.findall(r"<script\b([^>]*)>", html)
        assert all("src=" in attrs or "application/ld+json" in attrs for attrs in scripts), path
        assert not re.search(r"\son[a-z]+=", html), path
        assert " style=" not in html, path


async def test_no_cookie_on_any_cacheable_response_even_when_signed_in(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")
    await sign_in(client, "ada@example.com")
    paths = [*PUBLIC_PAGES, await _a_product_path(client)]

    for path in paths:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "set-cookie" not in response.headers, path
        assert "public" in response.headers["cache-control"], path


async def test_anonymous_visitors_get_no_session_from_personal_pages_either(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/account", "/account/login", "/fragments/me"):
        response = await client.get(path)
        assert "set-cookie" not in response.headers, path
        assert response.headers["cache-control"] == "private, no-store", path
