"""A shopper fills a cart on a phone, with JavaScript and without."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import BrowserProblems, OpenPage, make_live_product


def _badge(page: Page) -> Any:
    return page.get_by_role("banner").get_by_test_id("cart-count")


def test_add_to_cart_updates_the_badge_in_place_then_change_the_cart(
    open_page: OpenPage, base_url: str, browser_problems: BrowserProblems
) -> None:
    path, _ = make_live_product(base_url, "Cart Test Kettle", 5)
    page = open_page("phone")
    page.goto(path)
    expect(_badge(page)).to_have_text("0")

    page.get_by_test_id("quantity-input").fill("2")
    page.get_by_test_id("add-to-cart").click()

    expect(page.get_by_test_id("flash-message")).to_contain_text("Added 2 to your cart.")
    expect(_badge(page)).to_have_text("2")
    assert page.url.endswith(path)  # no page load: the fragment and the badge swapped in

    page.goto("/cart")
    line = page.get_by_test_id("cart-line")
    expect(line).to_have_count(1)
    expect(page.get_by_test_id("cart-total")).to_have_text("€49.00")
    line.get_by_test_id("quantity-input").fill("3")
    line.get_by_role("button", name="Update").click()
    expect(page.get_by_test_id("cart-total")).to_have_text("€73.50")
    expect(_badge(page)).to_have_text("3")

    page.get_by_test_id("quantity-input").fill("9")
    page.get_by_role("button", name="Update").click()
    expect(page.get_by_test_id("cart-line-note")).to_have_text(
        "Only 5 left: lower the quantity to check out."
    )
    expect(page.get_by_test_id("checkout-button")).to_have_count(0)

    page.get_by_test_id("cart-line-remove").click()
    expect(page.get_by_test_id("cart-empty")).to_be_visible()
    expect(_badge(page)).to_have_text("0")
    assert browser_problems.found == []


def test_the_cart_works_without_javascript(open_page: OpenPage, base_url: str) -> None:
    path, _ = make_live_product(base_url, "No Script Teapot", 4)
    page = open_page("phone", java_script_enabled=False)
    page.goto(path)

    page.get_by_test_id("quantity-input").fill("1")
    page.get_by_test_id("add-to-cart").click()

    expect(page).to_have_url(f"{base_url}/cart")
    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    expect(page.get_by_test_id("cart-total")).to_have_text("€24.50")
    page.get_by_test_id("cart-line-remove").click()
    expect(page.get_by_test_id("cart-empty")).to_be_visible()
