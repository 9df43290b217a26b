"""A shopper browses: home, a department, a product; a wrong link; a page from the edge cache."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import SMALL_PAGE, BrowserProblems, OpenPage

PRICE = re.compile(r"^€\d{1,3}(,\d{3})*\.\d{2}$")
STOCK = re.compile(r"^(In stock|Only \d+ left|Out of stock)$")
PRODUCT_COUNT = re.compile(r"^(\d+) products?$")
PAGE_SIZE = 24  # the shop's default


def expect_header_filled(page: Page) -> None:
    """The header's personal holes are swapped in by htmx after the page has loaded."""
    header = page.get_by_role("banner")
    expect(header.locator("[hx-get]")).to_have_count(0)  # every hole replaced by its fragment
    expect(header.get_by_test_id("account-menu")).to_have_text("Sign in")
    expect(header.get_by_test_id("cart-count")).to_have_text("0")


def expect_images_sized_and_loaded(page: Page) -> None:
    """Every image reserves its space (no layout shift), and the first one really arrives."""
    images = page.get_by_role("main").locator("img")
    expect(images.first).to_be_visible()
    sizes = images.evaluate_all(
        "imgs => imgs.map(img => [img.getAttribute('width'), img.getAttribute('height')])"
    )
    assert all(width and height for width, height in sizes), sizes
    # decode() waits for the bytes and rejects if the image is broken.
    natural_width = images.first.evaluate("img => img.decode().then(() => img.naturalWidth)")
    assert natural_width > 0


def card_links(page: Page) -> list[str]:
    """Each card's product URL: titles may repeat between products, URLs never do."""
    links = page.get_by_test_id("product-card").get_by_role("link")
    return [str(href) for href in links.evaluate_all("links => links.map(a => a.href)")]


def test_shopper_walks_from_home_to_a_product(
    page: Page, browser_problems: BrowserProblems
) -> None:
    # Given the home page
    response = page.goto("/")
    assert response is not None
    assert response.ok
    cards = page.get_by_test_id("product-card")
    assert cards.count() >= 8
    for card in cards.all():
        expect(card.get_by_test_id("product-title")).to_have_text(re.compile(r"\w"))
        expect(card.get_by_test_id("product-price")).to_have_text(PRICE)
    expect_header_filled(page)
    expect_images_sized_and_loaded(page)

    # When the shopper taps the first department
    departments = page.get_by_role("region", name="Shop by department").get_by_role("link")
    department = departments.first.inner_text()
    departments.first.click()

    # Then its products are listed, on one page or several
    expect(page).to_have_url(re.compile(r"/categories/[\w-]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(department)
    count = page.get_by_text(PRODUCT_COUNT)
    expect(count).to_be_visible()
    match = PRODUCT_COUNT.match(count.inner_text())
    assert match is not None
    total = int(match.group(1))
    expect(cards).to_have_count(min(total, PAGE_SIZE))
    if total > PAGE_SIZE:
        first_page = card_links(page)
        page.get_by_test_id("pagination-next").click()  # "Load more" appends page 2
        expect(page).to_have_url(re.compile(r"\?page=2$"))
        expect(cards).to_have_count(min(total, 2 * PAGE_SIZE))
        assert card_links(page)[:PAGE_SIZE] == first_page
        assert set(card_links(page)[PAGE_SIZE:]).isdisjoint(first_page)
    else:
        expect(page.get_by_test_id("pagination-next")).to_have_count(0)
    expect_header_filled(page)
    expect_images_sized_and_loaded(page)

    # When the shopper taps a product card
    card = cards.first
    title = card.get_by_test_id("product-title").inner_text()
    price = card.get_by_test_id("product-price").inner_text()
    card.get_by_role("link").click()

    # Then the product page shows what is needed to buy it
    expect(page).to_have_url(re.compile(r"/products/[\w-]+$"))
    expect(page.get_by_test_id("product-title")).to_have_text(title)
    expect(page.get_by_test_id("product-price")).to_have_text(PRICE)
    expect(page.get_by_test_id("stock-level")).to_have_text(STOCK)
    expect(page.get_by_test_id("variant-select")).to_be_visible()
    expect(page.get_by_test_id("variant-select")).to_have_accessible_name("Options")
    expect(page.get_by_test_id("quantity-input")).to_have_value("1")
    expect(page.get_by_test_id("quantity-input")).to_have_accessible_name("Quantity")
    expect(page.get_by_test_id("add-to-cart")).to_be_visible()
    expect(page).to_have_title(re.compile(re.escape(title)))
    # A card shows the lowest price; the page shows the chosen option's, never lower.
    assert _cents(page.get_by_test_id("product-price").inner_text()) >= _cents(price)
    expect_header_filled(page)
    expect_images_sized_and_loaded(page)
    assert browser_problems.found == []


def test_load_more_adds_the_next_products(
    page: Page, paged_server: str, browser_problems: BrowserProblems
) -> None:
    # Given a department with more products than fit on one page
    page.goto(f"{paged_server}/")
    page.get_by_role("region", name="Shop by department").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/categories/[\w-]+$"))
    department_url = page.url
    cards = page.get_by_test_id("product-card")
    expect(cards).to_have_count(SMALL_PAGE)
    first_page = card_links(page)
    expect(page.get_by_test_id("pagination-previous")).to_have_count(0)
    expect_header_filled(page)

    # When the shopper taps "Load more"
    page.get_by_test_id("pagination-next").click()

    # Then page 2's products follow the first ones, and the address says page 2
    expect(page).to_have_url(f"{department_url}?page=2")
    expect(page.get_by_text("Page 2 of")).to_be_visible()
    expect(cards).to_have_count(2 * SMALL_PAGE)
    assert card_links(page)[:SMALL_PAGE] == first_page
    assert set(card_links(page)[SMALL_PAGE:]).isdisjoint(first_page)

    # And a reload shows the same list, not page 2 alone
    page.reload()
    expect(cards).to_have_count(2 * SMALL_PAGE)
    assert card_links(page)[:SMALL_PAGE] == first_page
    expect(page.get_by_test_id("pagination-previous")).to_have_count(0)
    expect_header_filled(page)
    assert browser_problems.found == []


def test_unknown_product_shows_a_calm_not_found_page(
    page: Page, base_url: str, browser_problems: BrowserProblems
) -> None:
    # Given a link to a product that does not exist
    url = f"{base_url}/products/no-such-product"
    browser_problems.expect_error_status(url)

    # When the shopper follows it
    response = page.goto(url)

    # Then a calm page says so, with a reference that support can look up
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not find that page")
    expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()
    request_id = response.headers.get("x-request-id")
    assert request_id
    expect(page.get_by_test_id("request-id")).to_have_text(request_id)
    expect(page.get_by_role("main")).not_to_contain_text("Traceback")
    expect_header_filled(page)
    assert browser_problems.found == []


def test_edge_serves_a_product_page_from_its_cache(
    page: Page,
    open_page: OpenPage,
    profile: str,
    edge_server: str,
    browser_problems: BrowserProblems,
) -> None:
    # Given a product page that a first shopper opened through the edge
    page.goto(f"{edge_server}/")
    href = page.get_by_test_id("product-card").first.get_by_role("link").get_attribute("href")
    assert href is not None
    assert href.startswith("/products/")
    first = page.goto(f"{edge_server}{href}")
    assert first is not None
    assert first.ok
    assert first.headers.get("x-cache") in {"HIT", "MISS"}
    title = page.get_by_test_id("product-title").inner_text()

    # When a second shopper (own browser, empty cache) opens it
    second_page = open_page(profile)
    second = second_page.goto(f"{edge_server}{href}")

    # Then the edge answers from its cache, and the page looks the same
    assert second is not None
    assert second.ok
    assert second.headers.get("x-cache") == "HIT"
    expect(second_page.get_by_test_id("product-title")).to_be_visible()
    expect(second_page.get_by_test_id("product-title")).to_have_text(title)
    expect(second_page.get_by_test_id("product-price")).to_have_text(PRICE)
    expect_header_filled(second_page)
    expect_images_sized_and_loaded(second_page)
    assert browser_problems.found == []


def _cents(text: str) -> int:
    """`€1,234.50` as 123450."""
    return int(re.sub(r"[^\d]", "", text))
