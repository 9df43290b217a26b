"""A guest on a phone buys something: cart, checkout, the hosted payment page, a paid order."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from app.inventory import service as inventory
from app.inventory.service import Line
from tests.conftest import LIVE_DATABASES
from tests.e2e.conftest import BrowserProblems, OpenPage, make_live_product, run_beside
from tests.factories.db import session_for


def add_something_in_stock(page: Page) -> None:
    page.goto("/")
    links = (
        page.get_by_test_id("product-card")
        .locator("a")
        .evaluate_all("links => links.map(link => link.getAttribute('href'))")
    )
    for href in dict.fromkeys(links):
        page.goto(href)
        page.wait_for_load_state("networkidle")  # htmx has loaded and processed the page
        if page.get_by_test_id("add-to-cart").is_enabled():
            page.get_by_test_id("add-to-cart").click()
            expect(page.get_by_test_id("cart-count").first).to_have_text("1")
            return
    raise AssertionError("no demo product on the home page is in stock")


def test_a_guest_checks_out_on_a_phone(
    open_page: OpenPage, browser_problems: BrowserProblems
) -> None:
    page = open_page("phone")
    add_something_in_stock(page)

    page.goto("/cart")
    page.get_by_test_id("checkout-button").click()
    page.get_by_test_id("checkout-email").fill("phone.guest@example.com")
    address = page.get_by_test_id("shipping-address")
    address.get_by_label("Full name").fill("Pia Phone")
    address.get_by_label("Street and number").fill("Hauptstr. 1")
    address.get_by_label("Postal code").fill("10115")
    address.get_by_label("City").fill("Berlin")
    page.get_by_role("button", name="Continue to shipping").click()

    # The demo products have weights: the step says what the parcel weighs and prices it.
    expect(page.get_by_test_id("cart-weight")).to_have_text(re.compile(r"weighs \d"))
    expect(page.get_by_test_id("shipping-option-parcel")).to_contain_text(re.compile(r"€\d"))
    page.get_by_test_id("shipping-method").get_by_label(re.compile("Express delivery")).check()
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_test_id("cart-total")).to_have_text(re.compile(r"^€\d"))
    expect(page.get_by_test_id("payment-method")).to_contain_text("Card")
    expect(page.get_by_test_id("payment-method")).to_contain_text("Bank transfer")
    # Repeated submits are one order: tests/e2e/test_double_submit.py shows it.
    page.get_by_test_id("place-order").click()

    _pay_on_hosted_page(page)
    expect(page.get_by_test_id("order-number")).to_have_text(re.compile(r"^EC-\d+$"))
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    page.goto("/cart")
    expect(page.get_by_test_id("cart-empty")).to_be_visible()
    assert browser_problems.found == []


def _pay_on_hosted_page(page: Page) -> None:
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("card-expiry").fill("12 / 40")
    page.get_by_test_id("card-cvc").fill("123")
    page.get_by_test_id("pay-button").click()


def choose_bank_transfer(page: Page) -> None:
    """On the review step: pay by bank transfer (the order page comes next, not the card's)."""
    page.get_by_test_id("payment-method").get_by_label(re.compile("Bank transfer")).check()


def fill_details(page: Page, email: str, name: str = "Nia No-Script") -> None:
    """Step 1 of the checkout as a guest: the e-mail and a German address, then on."""
    page.get_by_test_id("checkout-email").fill(email)
    address = page.get_by_test_id("shipping-address")
    address.get_by_label("Full name").fill(name)
    address.get_by_label("Street and number").fill("Hauptstr. 2")
    address.get_by_label("Postal code").fill("10115")
    address.get_by_label("City").fill("Berlin")
    page.get_by_role("button", name="Continue to shipping").click()


def test_the_whole_purchase_works_without_javascript(open_page: OpenPage, base_url: str) -> None:
    path, _ = make_live_product(base_url, "No Script Lamp", 3)
    page = open_page("phone", java_script_enabled=False)
    page.goto(path)
    page.get_by_test_id("add-to-cart").click()
    expect(page).to_have_url(f"{base_url}/cart")

    page.get_by_test_id("checkout-button").click()
    page.get_by_test_id("checkout-email").fill("not-an-address")
    page.get_by_role("button", name="Continue to shipping").click()
    expect(page.get_by_test_id("form-error").first).to_be_visible()  # the step, re-rendered
    fill_details(page, "no.script@example.com")
    page.get_by_role("button", name="Continue to review").click()
    page.get_by_test_id("place-order").click()
    _pay_on_hosted_page(page)  # the hosted page is a plain form too

    expect(page.get_by_test_id("order-number")).to_have_text(re.compile(r"^EC-\d+$"))
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")


def test_stock_running_out_while_in_the_cart_is_explained(
    open_page: OpenPage, base_url: str
) -> None:
    path, variant = make_live_product(base_url, "Last Vase", 2)
    page = open_page("phone")
    page.goto(path)
    page.get_by_test_id("quantity-input").fill("2")
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_role("banner").get_by_test_id("cart-count")).to_have_text("2")

    async def sell_one_elsewhere() -> None:
        async with session_for(LIVE_DATABASES[base_url]) as session:
            later = datetime.now(UTC) + timedelta(minutes=5)
            await inventory.reserve(session, "EC-ELSEWHERE", [Line(variant, 1)], later)

    run_beside(sell_one_elsewhere)
    page.goto("/cart")

    expect(page.get_by_test_id("cart-line-note")).to_have_text(
        "Only 1 left: lower the quantity to check out."
    )
    expect(page.get_by_test_id("checkout-button")).to_have_count(0)
    page.get_by_test_id("quantity-input").fill("1")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_test_id("checkout-button")).to_be_visible()
