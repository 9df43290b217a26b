"""Every GET route answers with the headers of the edge contract, and a cacheable answer never
carries a cookie (DESIGN.md, docs/edge.md).

The routes come from the app's own router: a new route fails here until it is classified.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from starlette.routing import Route

from app.main import create_starlette
from app.settings import Settings
from tests.factories.db import session_for

pytestmark = pytest.mark.anyio

# Same for everyone: cached at the edge, named by surrogate keys.
PUBLIC = {
    "/": "/",
    "/categories/{slug:str}": "/categories/{category}",
    "/products/{slug:str}": "/products/{product}",
    "/collections/{slug:str}": "/collections/{collection}",
    "/search": "/search?q=shirt",
    "/search/suggest": "/search/suggest?q=sh",
    "/robots.txt": "/robots.txt",
    "/sitemap.xml": "/sitemap.xml",
    "/sitemaps/categories.xml": "/sitemaps/categories.xml",
    "/sitemaps/products-{number:int}.xml": "/sitemaps/products-1.xml",
    "/api/v1/products": "/api/v1/products",
    "/api/v1/products/{id_or_slug:str}": "/api/v1/products/{product}",
    "/api/v1/products/{id_or_slug:str}/variants": "/api/v1/products/{product}/variants",
    "/api/v1/categories": "/api/v1/categories",
    "/api/v1/search": "/api/v1/search?q=shirt",
    "/stock/{variant_id:int}": "/stock/{variant}",
}
# Someone's own, or a step of a flow: never stored anywhere but the visitor's browser.
PRIVATE = {
    "/cart": "/cart",
    "/checkout": "/checkout",
    "/checkout/shipping": "/checkout/shipping",
    "/checkout/review": "/checkout/review",
    "/orders/{number}": "/orders/EC-999999",
    "/account": "/account",
    "/account/login": "/account/login",
    "/account/login/code": "/account/login/code",
    "/account/register": "/account/register",
    "/account/password": "/account/password",
    "/account/email": "/account/email",
    "/account/export": "/account/export",
    "/account/delete": "/account/delete",
    "/account/addresses/new": "/account/addresses/new",
    "/account/addresses/{address_id:int}/edit": "/account/addresses/1/edit",
    "/account/password-reset": "/account/password-reset",
    "/account/password-reset/{token:str}": "/account/password-reset/not-a-token",
    "/account/oidc/{provider}/start": "/account/oidc/demo/start",
    "/account/oidc/{provider}/callback": "/account/oidc/demo/callback",
    "/api/v1/me": "/api/v1/me",
    "/api/v1/carts/{token:str}": "/api/v1/carts/not-a-token",
    "/api/v1/orders": "/api/v1/orders",
    "/api/v1/orders/{number:str}": "/api/v1/orders/EC-999999",
    "/oauth/authorize": "/oauth/authorize",
    "/admin": "/admin",
    "/admin/orders": "/admin/orders",
    "/admin/orders/{number}": "/admin/orders/EC-999999",
    "/admin/orders/{number}/refund": "/admin/orders/EC-999999/refund",
    "/payments/{payment_id:int}/return": "/payments/999999/return",
    "/fragments/me": "/fragments/me",
}
# Documents and probes whose caching is their own business; the cookie rule still holds.
OTHER = {
    "/api/v1/openapi.json": "/api/v1/openapi.json",
    "/api/v1/docs": "/api/v1/docs",
    "/.well-known/jwks.json": "/.well-known/jwks.json",
    "/.well-known/oauth-authorization-server": "/.well-known/oauth-authorization-server",
    "/healthz": "/healthz",
    "/readyz": "/readyz",
    "/metrics": "/metrics",
}
# A visitor with a session cookie and its marker: a public page must still set nothing.
COOKIES = {"edgecart_session": "not-a-session", "edgecart_has_session": "1"}


def _get_routes(settings: Settings) -> set[str]:
    app = create_starlette(settings)
    return {
        route.path
        for route in app.routes
        if isinstance(route, Route) and route.methods and "GET" in route.methods
    }


def test_every_get_route_is_classified(settings: Settings) -> None:
    assert _get_routes(settings) == set(PUBLIC) | set(PRIVATE) | set(OTHER)


async def _examples(database_url: str) -> dict[str, str]:
    async with session_for(database_url) as session:
        row = (
            await session.execute(
                text(
                    "SELECT p.slug, c.slug, (SELECT slug FROM collection ORDER BY id LIMIT 1), "
                    "(SELECT min(id) FROM product_variant WHERE product_id = p.id) "
                    "FROM product p JOIN category c ON c.id = p.category_id ORDER BY p.id LIMIT 1"
                )
            )
        ).one()
    return {"product": row[0], "category": row[1], "collection": row[2], "variant": str(row[3])}


@pytest.mark.parametrize("path", sorted(PUBLIC), ids=sorted(PUBLIC))
async def test_public_routes_are_cacheable_named_and_cookieless(
    client: httpx.AsyncClient, database_url: str, path: str
) -> None:
    url = PUBLIC[path].format(**await _examples(database_url))
    for headers in ({}, {"HX-Request": "true"}):
        client.cookies.update(COOKIES)
        response = await client.get(url, headers=headers)

        assert response.status_code == 200, url
        assert "set-cookie" not in response.headers, url
        directives = {d.strip().split("=")[0] for d in response.headers["cache-control"].split(",")}
        assert {"public", "max-age", "s-maxage"} <= directives, url
        assert not {"private", "no-store"} & directives, url
        keys = response.headers["surrogate-key"].split()
        assert keys, url
        assert response.headers["cache-tag"].split(",") == keys, url


@pytest.mark.parametrize("path", sorted(PRIVATE), ids=sorted(PRIVATE))
async def test_personal_routes_are_private_and_set_no_cookie_for_strangers(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(PRIVATE[path], follow_redirects=False)

    assert "private" in response.headers.get("cache-control", ""), (path, response.status_code)
    assert "no-store" in response.headers["cache-control"], path
    assert "surrogate-key" not in response.headers, path
    assert "set-cookie" not in response.headers, path


@pytest.mark.parametrize("path", sorted(OTHER), ids=sorted(OTHER))
async def test_other_routes_set_no_cookie(client: httpx.AsyncClient, path: str) -> None:
    client.cookies.update(COOKIES)
    response = await client.get(OTHER[path])

    assert "set-cookie" not in response.headers, path


async def test_the_personal_fragment_forgets_a_session_that_ended(
    client: httpx.AsyncClient,
) -> None:
    # Given a browser whose session expired: cookie and marker still there
    client.cookies.update(COOKIES)

    # When the page asks for its personal parts
    response = await client.get("/fragments/me", headers={"HX-Request": "true"})

    # Then it gets the neutral parts out of band and both cookies are cleared
    assert response.headers["cache-control"] == "private, no-store"
    assert 'id="account-menu" hx-swap-oob="outerHTML"' in response.text
    assert 'id="cart-badge" hx-swap-oob="outerHTML"' in response.text
    cleared = response.headers.get_list("set-cookie")
    assert any(c.startswith("edgecart_has_session=") and "Max-Age=0" in c for c in cleared)
    assert any(c.startswith("edgecart_session=") and "Max-Age=0" in c for c in cleared)
