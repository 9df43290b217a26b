"""Browser fixtures on top of pytest-playwright: Debian's Chromium, the live shop, two viewports.

Every test that asks for `page` runs twice, as a shopper on a phone and on a desktop. Each page
lives in its own browser context (its own cookies and HTTP cache), closed after the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
)

from app.devstack.mailsink import LocalMailSink
from app.devstack.oidc import LocalOidcProvider
from app.devstack.postgres import LocalPostgres
from app.devstack.redis_server import LocalRedis
from tests.conftest import LIVE_DATABASES, serve_seeded_shop
from tests.factories.catalog import make_product
from tests.factories.db import session_for

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
PROFILES: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 3,
    },
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}

SMALL_PAGE = 4

OpenPage = Callable[..., Page]


def pytest_itemcollected(item: pytest.Item) -> None:
    # Called only for tests under this directory (a conftest hook scoped by path).
    item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(trylast=True)  # after pytest's own reordering by fixture parameters
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests after all others.

    Sync Playwright keeps an asyncio loop running in the main thread from the first browser test
    to the end of the session, and async tests (anyio) cannot start a loop while it runs.
    """
    browser_tests = [item for item in items if item.path.is_relative_to(HERE)]
    items[:] = [item for item in items if item not in browser_tests] + browser_tests


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Playwright's own browser download does not work here; Debian's Chromium does.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def playwright(live_server: str, playwright: Playwright) -> Playwright:
    # The harness seeds its database with asyncio.run(), which refuses to run inside the loop
    # that sync Playwright keeps running: start the shop before Playwright, whatever the order.
    return playwright


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    return live_server


@pytest.fixture(scope="session")
def paged_server(
    postgres: LocalPostgres,
    templates_ready: None,
    redis_server: LocalRedis,
    static_dir: Path,
    media_dir: Path,
    mail_sink: LocalMailSink,
) -> Iterator[str]:
    """A second live shop showing 4 products a page: the 60 demo products fill no category
    past one page of the default 24, so pagination needs a smaller page to be seen at all."""
    yield from serve_seeded_shop(
        postgres,
        redis_server,
        static_dir,
        media_dir,
        mail_sink=mail_sink,
        PAGE_SIZE=str(SMALL_PAGE),
    )


@pytest.fixture(scope="session")
def oidc_shop(
    postgres: LocalPostgres,
    templates_ready: None,
    redis_server: LocalRedis,
    static_dir: Path,
    media_dir: Path,
    mail_sink: LocalMailSink,
    oidc_provider: LocalOidcProvider,
    oidc_shop_port: int,
) -> Iterator[str]:
    """A live shop offering "Continue with Demo ID", signing in at the local OpenID provider."""
    yield from serve_seeded_shop(
        postgres,
        redis_server,
        static_dir,
        media_dir,
        mail_sink=mail_sink,
        port=oidc_shop_port,
        SITE_URL=f"http://127.0.0.1:{oidc_shop_port}",
        **oidc_provider.app_env(),
    )


class BrowserProblems:
    """What a shopper would notice as broken: console errors, script errors, failed requests."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self._expected_errors: set[str] = set()

    def expect_error_status(self, url: str) -> None:
        """`url` answers 4xx/5xx on purpose (a deliberate 404); do not count it."""
        self._expected_errors.add(url)

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.found.append(f"page error: {error}"))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and message.location.get("url") not in self._expected_errors:
            self.found.append(f"console error: {message.text} ({message.location.get('url')})")

    def _on_request_failed(self, request: Request) -> None:
        self.found.append(f"request failed: {request.method} {request.url} ({request.failure})")

    def _on_response(self, response: Response) -> None:
        if response.status >= 400 and response.url not in self._expected_errors:
            self.found.append(f"HTTP {response.status}: {response.request.method} {response.url}")


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def open_page(
    browser: Browser, base_url: str, browser_problems: BrowserProblems
) -> Iterator[OpenPage]:
    """Opens a page in a fresh context: a new shopper with an empty HTTP cache and no cookies."""
    contexts: list[BrowserContext] = []

    def open_(profile: str, **overrides: Any) -> Page:
        context = browser.new_context(**{"base_url": base_url, **PROFILES[profile], **overrides})
        contexts.append(context)
        page = context.new_page()
        browser_problems.watch(page)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(params=list(PROFILES))
def page(request: pytest.FixtureRequest, open_page: OpenPage) -> Page:
    """A shopper's page on the live shop, once as "phone" and once as "desktop"."""
    return open_page(request.param)


@pytest.fixture(params=list(PROFILES))
def axe_page(request: pytest.FixtureRequest, open_page: OpenPage) -> Page:
    """A page for axe-core scans. Axe is injected as an inline script, which the shop's
    Content-Security-Policy rightly refuses, so these pages bypass the CSP for axe alone; every
    other browser test runs under the real policy and fails on any violation."""
    return open_page(request.param, bypass_csp=True)


@pytest.fixture
def profile(request: pytest.FixtureRequest, page: Page) -> str:
    """The name of the viewport profile `page` runs with: "phone" or "desktop"."""
    return str(request.node.callspec.params["page"])


T = TypeVar("T")


def run_beside(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run async database work from a sync Playwright test (whose thread has a loop running)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work())).result()


def make_live_product(
    base_url: str, title: str, stock: int, price_minor: int = 2450
) -> tuple[str, int]:
    """A product of our own in the live shop's database (demo stock is random): its path and
    its variant id."""

    async def make() -> tuple[str, int]:
        async with session_for(LIVE_DATABASES[base_url]) as session:
            made = await make_product(session, title=title, stock=(stock,), price_minor=price_minor)
        return f"/products/{made.slug}", made.variant_ids[0]

    return run_beside(make)
