"""A shopper picks a variant: with htmx (URL follows, back restores) and without JavaScript."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import BrowserProblems, OpenPage
from tests.e2e.test_accessibility import AXE, BLOCKING, RUN_AXE, TAGS, describe


@dataclass(frozen=True)
class Shown:
    """One variant's page as a shopper sees it."""

    id: int
    options: dict[str, str]
    price: str
    sku: str
    stock: str
    first_image: str


@dataclass(frozen=True)
class Pair:
    slug: str
    option: str  # the option that differs between the two
    legend: str  # how the page names it
    before: Shown
    after: Shown

    def url(self, shown: Shown) -> str:
        return f"/products/{self.slug}?variant={shown.id}"


def _read(page_html: str, variant_id: int) -> Shown:
    def text(test_id: str) -> str:
        match = re.search(rf'data-testid="{test_id}"[^>]*>([^<]*)<', page_html)
        assert match, test_id
        return html.unescape(match.group(1).strip())

    checked = re.findall(r'name="(\w+)" value="([^"]*)" checked', page_html)
    image = re.search(r'<img src="([^"]+)"', page_html)
    assert image
    options = {name: html.unescape(value) for name, value in checked}
    return Shown(variant_id, options, text("product-price"), text("sku"), text("stock-level"),
                 image.group(1))  # fmt: skip


def _variants_of(http: httpx.Client, path: str) -> list[Shown]:
    page_html = http.get(path).text
    ids = sorted({int(i) for i in re.findall(rf"{re.escape(path)}\?variant=(\d+)", page_html)})
    return [_read(http.get(f"{path}?variant={i}").text, i) for i in ids]


@pytest.fixture(scope="session")
def pair(base_url: str) -> Pair:
    """Two in-stock variants of one demo product that differ in one option and in price,
    preferring a pair whose stock words and first photo differ too."""
    best: tuple[int, Pair] | None = None
    with httpx.Client(base_url=base_url) as http:
        sitemap = http.get("/sitemaps/products-1.xml").text
        for path in re.findall(r"<loc>https?://[^/]+(/products/[^<]+)</loc>", sitemap)[:40]:
            shown = [s for s in _variants_of(http, path) if s.stock != "Out of stock"]
            for a in shown:
                for b in shown:
                    differ = [k for k in a.options if a.options[k] != b.options.get(k)]
                    if (
                        len(differ) != 1
                        or a.price == b.price
                        or a.options.keys() != b.options.keys()
                    ):
                        continue
                    score = (a.stock != b.stock) + (a.first_image != b.first_image)
                    if best is None or score > best[0]:
                        legend = differ[0].replace("_", " ").capitalize()
                        slug = path.removeprefix("/products/")
                        best = (score, Pair(slug, differ[0], legend, a, b))
            if best and best[0] == 2:
                break
    assert best, "no demo product has two in-stock variants with different prices"
    return best[1]


def _choice(page: Page, pair: Pair, shown: Shown) -> Locator:
    value = shown.options[pair.option]
    group = page.get_by_test_id("variant-select").get_by_role("group", name=pair.legend)
    return group.get_by_role("radio", name=re.compile(rf"^{re.escape(value)}(\s|$)"))


def _expect_showing(page: Page, pair: Pair, shown: Shown) -> None:
    expect(page.get_by_test_id("product-price")).to_have_text(shown.price)
    expect(page.get_by_test_id("sku")).to_have_text(shown.sku)
    expect(page.get_by_test_id("stock-level")).to_have_text(shown.stock)
    expect(page.locator("#product-gallery img").first).to_have_attribute("src", shown.first_image)
    expect(_choice(page, pair, shown)).to_be_checked()
    expect(page.get_by_test_id("add-to-cart")).to_be_enabled()


def test_switching_variant_with_javascript_updates_the_page_and_the_url(
    page: Page, base_url: str, pair: Pair, browser_problems: BrowserProblems
) -> None:
    # Given a product page showing one variant
    page.goto(pair.url(pair.before))
    page.wait_for_load_state("networkidle")  # htmx has loaded and processed the page
    _expect_showing(page, pair, pair.before)
    expect(page.get_by_role("button", name="Update")).to_have_count(0)  # only without JS

    # When the shopper picks the other value of one option
    _choice(page, pair, pair.after).check()

    # Then price, SKU, stock and photo change in place, the address names the variant,
    # focus stays on the choice and screen readers hear the change
    expect(page).to_have_url(f"{base_url}{pair.url(pair.after)}")
    _expect_showing(page, pair, pair.after)
    expect(_choice(page, pair, pair.after)).to_be_focused()
    expect(page.get_by_role("button", name="Update")).to_have_count(0)  # still JS-only after swap
    expect(page.locator("#variant-status")).to_contain_text(pair.after.price)
    expect(page.get_by_test_id("product-title")).to_be_visible()

    # When the shopper goes back
    page.go_back()

    # Then the first variant is back, as it was
    expect(page).to_have_url(f"{base_url}{pair.url(pair.before)}")
    _expect_showing(page, pair, pair.before)

    # And a reload of the address the shopper shared shows the second variant
    page.goto(pair.url(pair.after))
    _expect_showing(page, pair, pair.after)
    assert browser_problems.found == []


def test_switching_variant_without_javascript_submits_the_form(
    open_page: OpenPage, base_url: str, pair: Pair, browser_problems: BrowserProblems
) -> None:
    # Given a phone without JavaScript on a product page
    page = open_page("phone", java_script_enabled=False)
    page.goto(pair.url(pair.before))
    _expect_showing(page, pair, pair.before)

    # When the shopper picks the other value and taps Update
    _choice(page, pair, pair.after).check()
    page.get_by_role("button", name="Update").click()

    # Then the variant's own page loads
    expect(page).to_have_url(f"{base_url}{pair.url(pair.after)}")
    _expect_showing(page, pair, pair.after)

    # And the browser's back button returns to the first one
    page.go_back()
    expect(page).to_have_url(f"{base_url}{pair.url(pair.before)}")
    _expect_showing(page, pair, pair.before)
    assert browser_problems.found == []


def test_a_sold_out_choice_says_so_and_cannot_be_bought(
    axe_page: Page, base_url: str, browser_problems: BrowserProblems
) -> None:
    page = axe_page
    # Given a demo product where one choice is marked "Sold out"
    with httpx.Client(base_url=base_url) as http:
        sitemap = http.get("/sitemaps/products-1.xml").text
        paths = re.findall(r"<loc>https?://[^/]+(/products/[^<]+)</loc>", sitemap)
        path = next(p for p in paths if 'class="option__note">Sold out<' in http.get(p).text)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    sold_out = page.get_by_test_id("variant-select").get_by_role(
        "radio", name=re.compile(r"\bSold out$")
    )

    # When the shopper picks it
    sold_out.first.check()

    # Then the page says so, the button is off and says why, and the address names the variant
    expect(page.get_by_test_id("stock-level")).to_have_text("Out of stock")
    expect(page.get_by_test_id("add-to-cart")).to_be_disabled()
    expect(page.get_by_test_id("add-to-cart")).to_have_accessible_description(
        re.compile(r"is sold out\. Choose another option\.$")
    )
    expect(page).to_have_url(re.compile(rf"{re.escape(base_url + path)}\?variant=\d+$"))

    # And axe-core finds nothing serious in that state
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(RUN_AXE, TAGS)
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert blocking == [], describe(blocking)
    assert browser_problems.found == []
