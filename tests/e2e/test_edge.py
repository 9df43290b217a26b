"""The edge (Varnish + xkey, cdn/default.vcl) in front of two app instances and a worker.

These tests run their own shop: two hypercorn instances on one clone of the seeded database, a
Redis of their own (so the worker's queue meets no other live server's jobs), an arq worker that
relays the outbox and purges the edge (EDGE_PURGE_URL), and Varnish round-robin over the two.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import Popen
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Request, expect
from sqlalchemy import text

from app.assets import SOURCE, build_static
from app.catalog import service as catalog
from app.devstack.ports import free_port, wait_for_port
from app.devstack.postgres import LocalPostgres
from app.devstack.processes import start_web, start_worker, stop_process
from app.devstack.redis_server import LocalRedis
from app.devstack.varnish import LocalVarnish
from app.edge.service import EDGE_PURGE_KIND
from tests.conftest import SEEDED_TEMPLATE, _wait_for_heartbeat
from tests.e2e.conftest import BrowserProblems, OpenPage, run_beside
from tests.factories.accounts import PASSWORD, make_account
from tests.factories.catalog import MadeProduct, make_product
from tests.factories.db import session_for

PRICE_TEXT = re.compile(r'data-testid="product-price">([^<]+)<')
PURGE_DEADLINE_SECONDS = 1.0


@dataclass
class EdgeShop:
    """The shop as the world sees it (`url`, the edge) and what is behind it."""

    url: str
    database_url: str
    varnish: LocalVarnish
    redis: LocalRedis
    origins: list[Popen[bytes]] = field(default_factory=list)
    worker: Popen[bytes] | None = None

    def stop_origin(self) -> None:
        for process in self.origins:
            stop_process(process)

    def stop(self) -> None:
        self.varnish.stop()
        self.stop_origin()
        if self.worker is not None:
            stop_process(self.worker)
        self.redis.stop()


def _start_edge_shop(
    directory: Path, postgres: LocalPostgres, static_dir: Path, media_dir: Path, instances: int = 2
) -> EdgeShop:
    name = f"edge_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name, template=SEEDED_TEMPLATE)
    redis = LocalRedis(directory / "redis", free_port())
    redis.start()
    edge_port = free_port()
    env = {
        "EDGECART_ENV": "test",
        "DATABASE_URL": postgres.url(name),
        "REDIS_URL": redis.url,
        "STATIC_DIR": str(static_dir),
        "MEDIA_DIR": str(media_dir),
        "EDGE_PURGE_URL": f"http://127.0.0.1:{edge_port}",
        "LOG_JSON": "false",
        "DB_POOL_SIZE": "2",
    }
    env = {**os.environ, **env}
    varnish = LocalVarnish(directory / "varnish", edge_port, [])
    shop = EdgeShop(varnish.url, postgres.url(name), varnish, redis)
    try:
        ports = [free_port() for _ in range(instances)]
        shop.origins = [start_web("127.0.0.1", port, env) for port in ports]
        shop.worker = start_worker(env)
        for port in ports:
            wait_for_port(port, 30, "hypercorn")
        _wait_for_heartbeat(redis.url, shop.worker)
        varnish.backend_ports = ports
        varnish.start()
    except BaseException:
        shop.stop()
        raise
    return shop


@pytest.fixture(scope="module")
def edge_shop(
    workdir: Path,
    postgres: LocalPostgres,
    templates_ready: None,
    static_dir: Path,
    media_dir: Path,
) -> Iterator[EdgeShop]:
    shop = _start_edge_shop(
        workdir / f"edge-{uuid.uuid4().hex[:6]}", postgres, static_dir, media_dir
    )
    yield shop
    shop.stop()


@pytest.fixture
def doomed_edge_shop(
    workdir: Path,
    postgres: LocalPostgres,
    templates_ready: None,
    static_dir: Path,
    media_dir: Path,
) -> Iterator[EdgeShop]:
    """An edge shop of its own, for a test that stops its origin."""
    shop = _start_edge_shop(
        workdir / f"edge-{uuid.uuid4().hex[:6]}", postgres, static_dir, media_dir
    )
    yield shop
    shop.stop()


def _made(shop: EdgeShop, title: str, price_minor: int = 2450) -> MadeProduct:
    async def make() -> MadeProduct:
        async with session_for(shop.database_url) as session:
            return await make_product(session, title=title, stock=(8,), price_minor=price_minor)

    return run_beside(make)


def _change_price(shop: EdgeShop, variant_id: int, price_minor: int) -> None:
    async def change() -> None:
        async with session_for(shop.database_url) as session:
            await catalog.change_price(session, variant_id, price_minor)

    run_beside(change)


def _purges_waiting(shop: EdgeShop) -> int:
    async def count() -> int:
        async with session_for(shop.database_url) as session:
            found = await session.execute(
                text("SELECT count(*) FROM outbox_event WHERE kind = :k AND done_at IS NULL"),
                {"k": EDGE_PURGE_KIND},
            )
            return int(found.scalar_one())

    return run_beside(count)


def _price(response: httpx.Response) -> str:
    found = PRICE_TEXT.search(response.text)
    assert found is not None, response.text[:500]
    return found.group(1)


def test_the_second_request_for_a_product_page_is_a_hit(edge_shop: EdgeShop) -> None:
    product = _made(edge_shop, "Edge Hit Lamp")
    url = f"{edge_shop.url}/products/{product.slug}"
    with httpx.Client() as http:
        first = http.get(url)
        # A visitor's cookies (a session, the marker) must neither split nor bypass the cache.
        second = http.get(url, headers={"Cookie": "edgecart_session=abc; edgecart_has_session=1"})

    assert first.status_code == 200
    assert first.headers["x-cache"] == "MISS"
    assert second.status_code == 200
    assert second.headers["x-cache"] == "HIT"
    assert second.text == first.text
    for response in (first, second):
        assert "set-cookie" not in response.headers
        assert "s-maxage=" in response.headers["cache-control"]
        # The keys are for the edge alone.
        assert not {"surrogate-key", "xkey", "cache-tag"} & set(response.headers)


def test_a_price_change_through_the_catalog_service_shows_through_the_edge_within_a_second(
    edge_shop: EdgeShop,
) -> None:
    # Given a product page and a category page the edge holds
    product = _made(edge_shop, "Edge Price Kettle", price_minor=2450)
    url = f"{edge_shop.url}/products/{product.slug}"
    with httpx.Client() as http:
        http.get(url)
        cached = http.get(url)
        assert cached.headers["x-cache"] == "HIT"
        assert _price(cached) == "€24.50"

        # When staff change the price through the catalog service (one committed transaction)
        _change_price(edge_shop, product.variant_ids[0], 3175)
        committed = time.monotonic()

        # Then shoppers at the edge see the new price within a second
        seen = []
        while time.monotonic() - committed < 5 * PURGE_DEADLINE_SECONDS:
            seen.append(_price(http.get(url)))
            if seen[-1] == "€31.75":
                break
        elapsed = time.monotonic() - committed
    assert seen[-1] == "€31.75", seen
    print(f"purge-to-fresh: {elapsed * 1000:.0f} ms over {len(seen)} requests")
    assert elapsed <= PURGE_DEADLINE_SECONDS, f"{elapsed:.3f} s"
    assert _purges_waiting(edge_shop) == 0


def test_a_signed_in_shopper_and_an_anonymous_visitor_see_nothing_of_each_other(
    edge_shop: EdgeShop, open_page: OpenPage, browser_problems: BrowserProblems
) -> None:
    product = _made(edge_shop, "Edge Shared Teapot")
    path = f"/products/{product.slug}"
    account = run_beside(
        lambda: make_account(
            edge_shop.database_url, "edge.shopper@example.com", full_name="Edda Edge"
        )
    )

    # Given a shopper who signed in through the edge and has two teapots in the cart
    shopper = open_page("phone", base_url=edge_shop.url)
    shopper.goto("/account/login")
    shopper.get_by_test_id("login-email").fill(account.email)
    shopper.get_by_test_id("login-password").fill(PASSWORD)
    shopper.get_by_test_id("login-submit").click()
    expect(shopper).to_have_url(re.compile(r"/account$"))
    shopper.goto(path)
    shopper.get_by_test_id("quantity-input").fill("2")
    shopper.get_by_test_id("add-to-cart").click()
    expect(shopper.get_by_role("banner").get_by_test_id("cart-count")).to_have_text("2")

    # When an anonymous visitor and then the shopper load the same product page
    visitor = open_page("phone", base_url=edge_shop.url)
    visitor_requests: list[str] = []
    visitor.on("request", lambda request: visitor_requests.append(request.url))
    visitor_response = visitor.goto(path)
    shopper_requests: list[Request] = []
    shopper.on("request", lambda request: shopper_requests.append(request))
    shopper_response = shopper.goto(path)

    # Then both got the one page the edge cached (for the shopper, from the browser's own
    # cache of it), the same bytes, with no cookie
    assert visitor_response is not None
    assert shopper_response is not None
    assert visitor_response.headers["x-cache"] == "HIT"
    assert visitor_response.body() == shopper_response.body()
    for response in (visitor_response, shopper_response):
        assert "set-cookie" not in response.headers
        assert b"Edda" not in response.body()
        assert b"edge.shopper" not in response.body()

    # The shopper's own parts came in one private request after the page
    shopper_banner = shopper.get_by_role("banner")
    expect(shopper_banner.get_by_test_id("account-menu")).to_have_text("Edda Edge")
    expect(shopper_banner.get_by_test_id("cart-count")).to_have_text("2")
    me = [r for r in shopper_requests if urlsplit(r.url).path == "/fragments/me"]
    assert len(me) == 1
    assert urlsplit(me[0].url).query.startswith("viewing=")  # a product page: "recently viewed"
    me_response = me[0].response()
    assert me_response is not None
    assert me_response.headers["cache-control"] == "private, no-store"
    assert "x-cache" in me_response.headers
    assert me_response.headers["x-cache"] == "MISS"

    # The visitor sees the neutral header, asked for nothing personal and holds no cookie
    visitor_banner = visitor.get_by_role("banner")
    expect(visitor_banner.get_by_test_id("account-menu")).to_have_text("Sign in")
    expect(visitor_banner.get_by_test_id("cart-count")).to_have_text("0")
    expect(visitor.get_by_test_id("product-title")).to_have_text("Edge Shared Teapot")
    assert not [url for url in visitor_requests if "/fragments/" in url]
    assert visitor.context.cookies() == []
    assert "Edda" not in visitor.content()
    assert browser_problems.found == []


def test_with_the_origin_down_catalog_pages_are_served_stale(
    doomed_edge_shop: EdgeShop, open_page: OpenPage, browser_problems: BrowserProblems
) -> None:
    shop = doomed_edge_shop
    with httpx.Client(base_url=shop.url) as http:
        # Given a featured product's page, its category page and the home page in the edge
        home = http.get("/")
        product_path = re.findall(r'href="(/products/[\w-]+)"', home.text)[0]
        product_page = http.get(product_path)
        category_path = _category_path(product_page.text)
        category_page = http.get(category_path)
        price = _price(product_page)
        # (a first shopper's browser brought the pages' styles, scripts and images to the edge)
        first_shopper = open_page("phone", base_url=shop.url)
        with first_shopper.expect_response(lambda response: "/stock/" in response.url):
            first_shopper.goto(product_path)  # its live stock level polls once a second
        first_shopper.goto(category_path)
        first_shopper.wait_for_load_state("networkidle")

        # And both app instances stopped, and then a price change that purged the product's
        # pages (the worker still runs; the edge now holds them as stale, no longer fresh)
        shop.stop_origin()
        _change_price(shop, _variant_of(shop, product_path), _cents(price) + 100)
        _wait_until(lambda: _purges_waiting(shop) == 0, "the purge")

        # When shoppers ask for them
        stale_product = http.get(product_path)
        stale_category = http.get(category_path)
        stale_home = http.get("/")

    # Then the edge serves what it had (stale-if-error), not an error
    assert stale_product.status_code == 200
    assert _price(stale_product) == price
    assert stale_category.status_code == 200
    assert stale_category.text == category_page.text
    assert stale_home.status_code == 200
    assert stale_home.text == home.text
    product = product_path.removeprefix("/products/")

    # And in a browser with a session marker, the private fragment fails without harm
    page = open_page("phone", base_url=shop.url)
    page.context.add_cookies([{"name": "edgecart_has_session", "value": "1", "url": shop.url}])
    failures: list[int] = []
    page.on(
        "response",
        lambda r: failures.append(r.status) if urlsplit(r.url).path == "/fragments/me" else None,
    )
    page.goto(f"/products/{product}")
    expect(page.get_by_test_id("product-price")).to_have_text(price)
    expect(page.get_by_role("banner").get_by_test_id("account-menu")).to_have_text("Sign in")
    expect(page.get_by_role("banner").get_by_test_id("cart-count")).to_have_text("0")
    _wait_until(lambda: bool(failures), "the /fragments/me request to fail")
    assert failures[0] >= 500
    # The page still works: its breadcrumb leads to the (stale) category page.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link").last.click()
    expect(page).to_have_url(re.compile(re.escape(category_path) + "$"))
    expect(page.get_by_test_id("product-card").first).to_be_visible()
    # What fails is the private fragment (and the icon no browser had asked the edge for).
    unexpected = [
        problem
        for problem in browser_problems.found
        if not re.search(r"/fragments/me|htmx:responseError|favicon", problem)
    ]
    assert unexpected == []


def _variant_of(shop: EdgeShop, product_path: str) -> int:
    async def find() -> int:
        async with session_for(shop.database_url) as session:
            found = await session.execute(
                text(
                    "SELECT min(v.id) FROM product_variant v JOIN product p ON p.id = v.product_id "
                    "WHERE p.slug = :slug"
                ),
                {"slug": product_path.removeprefix("/products/")},
            )
            return int(found.scalar_one())

    return run_beside(find)


def _cents(price: str) -> int:
    return int(re.sub(r"[^\d]", "", price))


def _category_path(html: str) -> str:
    found = re.findall(r'href="(/categories/[\w-]+)"', html)
    assert found, "the product page links its category"
    return str(found[-1])


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_static_assets_are_cached_for_a_year_and_renamed_when_they_change(
    edge_shop: EdgeShop, tmp_path: Path
) -> None:
    with httpx.Client() as http:
        home = http.get(f"{edge_shop.url}/")
        css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', home.text)
        assert css is not None
        headers = {"Accept-Encoding": "gzip, deflate, br"}
        first = http.get(f"{edge_shop.url}{css.group(1)}", headers=headers)
        second = http.get(f"{edge_shop.url}{css.group(1)}", headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.headers["x-cache"] == "HIT"
    assert second.headers["content-encoding"] == "br"  # precompressed, through the edge
    directives = second.headers["cache-control"].replace(" ", "").split(",")
    assert "immutable" in directives
    assert "public" in directives
    max_age = next(int(d.split("=")[1]) for d in directives if d.startswith("max-age="))
    assert max_age == 365 * 24 * 3600  # the contract: a year
    assert "set-cookie" not in second.headers

    # A changed file gets a new name; an unchanged one keeps its name.
    source = tmp_path / "static"
    shutil.copytree(SOURCE, source)
    with (source / "css" / "site.css").open("a") as out:
        out.write("\n/* changed */\n")
    build_static(tmp_path / "built", source=source)
    manifest = (tmp_path / "built" / "staticfiles.json").read_text()
    names = re.findall(r'"(css/site\.[0-9a-f]{12}\.css|js/me\.[0-9a-f]{12}\.js)"', manifest)
    assert any(name.startswith("css/site.") for name in names)
    assert css.group(1).removeprefix("/static/") not in names
    me_js = re.search(r'src="/static/(js/me\.[0-9a-f]{12}\.js)"', home.text)
    assert me_js is not None
    assert me_js.group(1) in names


def test_a_purge_from_an_address_outside_the_acl_is_refused(edge_shop: EdgeShop) -> None:
    product = _made(edge_shop, "Edge Guarded Vase")
    url = f"{edge_shop.url}/products/{product.slug}"
    key = {"xkey-soft": f"product-{product.id}"}
    # 127.0.0.2 is loopback too, but not in the edge's `purgers` ACL (127.0.0.1, ::1).
    outsider = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    with httpx.Client() as http, outsider:
        http.get(url)
        assert http.get(url).headers["x-cache"] == "HIT"

        refused = outsider.request("PURGE", f"{edge_shop.url}/", headers=key)
        assert refused.status_code == 403
        assert outsider.request("PURGE", url).status_code == 403
        assert http.get(url).headers["x-cache"] == "HIT"  # nothing was purged

        allowed = http.request("PURGE", f"{edge_shop.url}/", headers=key)
        assert allowed.status_code == 200
        assert "Soft-invalidated" in allowed.text
