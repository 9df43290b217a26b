"""The card provider goes down (5xx on every call, injected at the simulator): a shopper on a
phone is told why and pays by bank transfer instead — from the order page of an order whose
card payment just failed, and at the review step of the next checkout — and a staff member
records the transfer, after which the shopper's order page shows it paid.

These tests run on a shop of their own (its own simulator account, Redis and breaker, opening
after one failure): the breaker they open cannot leak into the other browser tests, and it is
reset at the end anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from redis.asyncio import Redis

from app.devstack.mailsink import LocalMailSink
from app.devstack.paysim import WEBHOOK_PATH, LocalPaymentSimulator
from app.devstack.ports import free_port
from app.devstack.postgres import LocalPostgres
from app.devstack.redis_server import LocalRedis
from app.payments.gateways import card_breaker
from app.settings import Settings
from tests.conftest import LIVE_DATABASES, LIVE_REDIS, payment_account, serve_seeded_shop
from tests.e2e.conftest import OpenPage, run_beside
from tests.e2e.test_checkout import fill_details
from tests.factories.accounts import PASSWORD, make_account
from tests.factories.catalog import make_product
from tests.factories.db import session_for

UNAVAILABLE = "Card payments are unavailable right now: our card provider is reporting errors."


@pytest.fixture(scope="module")
def shop_keys() -> dict[str, str]:
    return {}


@pytest.fixture(scope="module")
def failover_shop(
    postgres: LocalPostgres, templates_ready: None, redis_server: LocalRedis, static_dir: Path,
    media_dir: Path, mail_sink: LocalMailSink, payment_simulator: LocalPaymentSimulator,
    shop_keys: dict[str, str],
) -> Iterator[str]:  # fmt: skip
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stripe = payment_account(payment_simulator, f"{url}{WEBHOOK_PATH}")
    shop_keys.update(stripe)
    yield from serve_seeded_shop(
        postgres, redis_server, static_dir, media_dir, mail_sink=mail_sink, port=port,
        PAYMENT_BREAKER_FAILURES="1", PAYMENT_BREAKER_COOLDOWN_SECONDS="3600", **stripe,
    )  # fmt: skip


@pytest.fixture
def provider_down(failover_shop: str, shop_keys: dict[str, str]) -> Iterator[None]:
    """Every call to this shop's card provider answers 500 — until the test ends, when the
    fault is cleared and the shop's breaker closed again."""
    _faults(shop_keys, "POST", {"fail_next": 100_000})
    yield
    _faults(shop_keys, "DELETE", None)
    _reset_breaker(failover_shop)


def _faults(keys: dict[str, str], method: str, body: dict[str, int] | None) -> None:
    response = httpx.request(
        method, f"{keys['STRIPE_API_BASE']}/_sim/faults", json=body, timeout=10,
        headers={"Authorization": f"Bearer {keys['STRIPE_SECRET_KEY']}"},
    )  # fmt: skip
    response.raise_for_status()


def _reset_breaker(shop: str) -> None:
    async def reset() -> None:
        client = Redis.from_url(LIVE_REDIS[shop], decode_responses=True)
        try:
            await card_breaker(client, Settings()).reset()
        finally:
            await client.aclose()

    run_beside(reset)


def _product(shop: str, title: str) -> str:
    async def make() -> str:
        async with session_for(LIVE_DATABASES[shop]) as session:
            made = await make_product(session, title=title, stock=(5,), price_minor=3100)
        return f"/products/{made.slug}"

    return run_beside(make)


def _checkout_to_review(page: Page, path: str, email: str) -> None:
    page.goto(path)
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_role("banner").get_by_test_id("cart-count")).not_to_have_text("0")
    page.goto("/cart")
    page.get_by_test_id("checkout-button").click()
    fill_details(page, email, "Bea Banker")
    page.get_by_role("button", name="Continue to review").click()


def test_provider_down_the_shopper_pays_by_transfer_and_staff_record_it(
    open_page: OpenPage, failover_shop: str, provider_down: None
) -> None:
    shopper = open_page("phone", base_url=failover_shop)

    # 1. Card chosen while the breaker is still closed: the provider fails, the order stands,
    #    and its page offers a bank transfer instead and says why.
    _checkout_to_review(shopper, _product(failover_shop, "Failover Kettle"), "bea@example.com")
    expect(shopper.get_by_test_id("payment-method").locator("input[value=card]")).to_be_checked()
    shopper.get_by_test_id("place-order").click()
    expect(shopper.get_by_test_id("order-status")).to_have_attribute(
        "data-status", "pending_payment"
    )
    expect(shopper.get_by_test_id("payment-error")).to_contain_text(
        "We could not reach the payment provider"
    )
    expect(shopper.get_by_test_id("payment-unavailable")).to_contain_text(UNAVAILABLE)
    expect(shopper.get_by_test_id("pay-now")).to_have_count(0)
    shopper.get_by_test_id("pay-by-transfer").click()
    expect(shopper.get_by_test_id("transfer-instructions")).to_be_visible()

    # 2. The next checkout: the review step says why card is unavailable, bank transfer is
    #    chosen, and the order page shows the instructions.
    _checkout_to_review(shopper, _product(failover_shop, "Failover Teapot"), "bea@example.com")
    methods = shopper.get_by_test_id("payment-method")
    expect(shopper.get_by_test_id("payment-unavailable")).to_contain_text(UNAVAILABLE)
    expect(methods.locator("input[value=card]")).to_be_disabled()
    expect(methods.locator("input[value=bank_transfer]")).to_be_checked()
    shopper.get_by_test_id("place-order").click()
    expect(shopper).to_have_url(re.compile(r"/orders/EC-\d+$"))
    number = shopper.get_by_test_id("order-number").inner_text()
    expect(shopper.get_by_test_id("order-status")).to_have_attribute(
        "data-status", "pending_payment"
    )
    expect(shopper.get_by_test_id("transfer-reference")).to_have_text(number)
    expect(shopper.get_by_test_id("transfer-iban")).to_have_text("DE89 3704 0044 0532 0130 00")
    expect(shopper.get_by_test_id("transfer-amount")).to_have_text(re.compile(r"^€\d"))
    expect(shopper.get_by_test_id("transfer-pay-by")).to_contain_text("UTC")

    # 3. A manager records the incoming transfer.
    run_beside(lambda: make_account(LIVE_DATABASES[failover_shop], "mia@example.com",
                                    role="manager"))  # fmt: skip
    staff = open_page("phone", base_url=failover_shop)
    staff.goto("/account/login")
    staff.get_by_test_id("login-email").fill("mia@example.com")
    staff.get_by_test_id("login-password").fill(PASSWORD)
    staff.get_by_test_id("login-submit").click()
    expect(staff.get_by_test_id("admin-landing")).to_be_visible()
    staff.get_by_test_id("admin-orders-link").click()
    staff.get_by_test_id("admin-transfers").get_by_role("link", name=number).click()
    expect(staff.get_by_test_id("admin-order-status")).to_have_attribute(
        "data-status", "pending_payment"
    )
    staff.get_by_test_id("admin-transfer-received").click()
    expect(staff.get_by_test_id("flash-message")).to_contain_text("the order is paid")
    expect(staff.get_by_test_id("admin-order-status")).to_have_attribute("data-status", "paid")

    # 4. The shopper's order page shows it paid.
    shopper.reload()
    expect(shopper.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    expect(shopper.get_by_test_id("transfer-instructions")).to_have_count(0)
