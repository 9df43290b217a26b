"""A shopper on a phone pays by card on the hosted payment page (the simulator, through the
real Stripe SDK): a good card pays the order; a declined card or one without funds is
explained in plain words, and paying again with a good card works."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import OpenPage, make_live_product
from tests.e2e.test_checkout import fill_details

GOOD_CARD = "4242 4242 4242 4242"


def _checkout_to_hosted_page(page: Page, base_url: str, title: str, email: str) -> None:
    path, _ = make_live_product(base_url, title, 5)
    page.goto(path)
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_role("banner").get_by_test_id("cart-count")).to_have_text("1")
    page.goto("/cart")
    page.get_by_test_id("checkout-button").click()
    fill_details(page, email, "Paula Payer")
    page.get_by_role("button", name="Continue to review").click()
    expect(page.get_by_test_id("payment-method").locator("input[value=card]")).to_be_checked()
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("pay-button")).to_be_visible()


def _pay_with(page: Page, card: str) -> None:
    page.get_by_test_id("card-number").fill(card)
    page.get_by_test_id("card-expiry").fill("12 / 40")
    page.get_by_test_id("card-cvc").fill("123")
    page.get_by_test_id("pay-button").click()


def test_a_good_card_pays_the_order(open_page: OpenPage, base_url: str) -> None:
    page = open_page("phone")
    _checkout_to_hosted_page(page, base_url, "Paid Teapot", "good.card@example.com")

    _pay_with(page, GOOD_CARD)

    expect(page).to_have_url(re.compile(r"/orders/EC-\d+$"))
    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_test_id("pay-now")).to_have_count(0)


@pytest.mark.parametrize(
    ("card", "words"),
    [
        pytest.param("4000 0000 0000 0002", "Your card was declined.", id="declined"),
        pytest.param("4000 0000 0000 9995", "Your card has insufficient funds.", id="no-funds"),
    ],
)
def test_a_refused_card_is_explained_and_paying_again_works(
    open_page: OpenPage, base_url: str, card: str, words: str
) -> None:
    page = open_page("phone")
    _checkout_to_hosted_page(page, base_url, f"Refused Mug {card[-4:]}", "refused@example.com")

    _pay_with(page, card)
    expect(page.get_by_test_id("card-error")).to_have_text(words)  # on the hosted page
    page.get_by_test_id("back-to-shop").click()

    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "pending_payment")
    expect(page.get_by_test_id("payment-error")).to_contain_text(words)
    page.get_by_test_id("pay-now").click()
    _pay_with(page, GOOD_CARD)

    expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    expect(page.get_by_test_id("payment-error")).to_have_count(0)
