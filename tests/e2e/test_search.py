"""A shopper on a phone searches: a typo, two facets, "load more" and back, suggestions."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import BrowserProblems, OpenPage

PRODUCT_COUNT = re.compile(r"^(\d+) products?$")
COUNT_IN_LABEL = re.compile(r"\((\d+)\)\s*$")
PAGE_SIZE = 24  # the shop's default


def _home_titles(page: Page) -> list[str]:
    page.goto("/")
    return page.get_by_test_id("product-card").get_by_test_id("product-title").all_inner_texts()


def _long_word(titles: list[str]) -> str:
    """A word of at least six letters from the demo catalog's titles."""
    words = [word for title in titles for word in re.findall(r"[A-Za-z]{6,}", title)]
    assert words, titles
    return words[0]


def _total(page: Page) -> int:
    count = page.get_by_text(PRODUCT_COUNT)
    expect(count).to_be_visible()
    match = PRODUCT_COUNT.match(count.inner_text())
    assert match
    return int(match.group(1))


def _count_of(option: Locator) -> int:
    match = COUNT_IN_LABEL.search(option.inner_text())
    assert match, option.inner_text()
    return int(match.group(1))


def _result_links(page: Page) -> list[str]:
    links = page.get_by_test_id("search-result").get_by_role("link")
    return [str(href) for href in links.evaluate_all("links => links.map(a => a.href)")]


def test_a_search_with_a_typo_finds_the_product(
    open_page: OpenPage, browser_problems: BrowserProblems
) -> None:
    # Given a word from a product's title, typed with a letter missing
    page = open_page("phone")
    word = _long_word(_home_titles(page))
    typo = word[:-2] + word[-1]

    # When the shopper searches for it from the header
    search = page.get_by_test_id("search-input")
    search.fill(typo)
    search.press("Enter")

    # Then products with the word are found, and the page says what it searched for
    expect(page).to_have_url(re.compile(rf"/search\?q={typo}$"))
    results = page.get_by_test_id("search-result")
    expect(results.first).to_be_visible()
    titles = results.get_by_test_id("product-title").all_inner_texts()
    assert any(word.lower() in title.lower() for title in titles), (word, titles)
    expect(page.get_by_test_id("search-corrected")).to_contain_text(word.lower())
    expect(search).to_have_value(typo)
    assert browser_problems.found == []


def test_two_facets_combine_and_their_counts_follow(
    open_page: OpenPage, browser_problems: BrowserProblems
) -> None:
    # Given every product, with the filters opened
    page = open_page("phone")
    page.goto("/search")
    everything = _total(page)
    page.get_by_text("Filter and sort").click()
    material = page.get_by_role("group", name="Material").get_by_test_id("facet").first
    material_name = material.inner_text().rsplit("(", 1)[0].strip()
    brands = page.get_by_role("group", name="Brand").get_by_test_id("facet")
    brand_counts_before = [_count_of(option) for option in brands.all()]

    # When the shopper picks a material
    material.click()
    page.get_by_test_id("apply-filters").click()

    # Then fewer products are shown, and the brand counts are those of that material
    expect(page).to_have_url(re.compile(r"[?&]material="))
    narrowed = _total(page)
    assert narrowed < everything
    page_material = page.get_by_role("group", name="Material").get_by_test_id("facet")
    expect(page_material.filter(has_text=material_name).get_by_role("checkbox")).to_be_checked()
    brands = page.get_by_role("group", name="Brand").get_by_test_id("facet")
    brand_counts_after = [_count_of(option) for option in brands.all()]
    assert sum(brand_counts_after) == narrowed
    assert brand_counts_after != brand_counts_before

    # When they also pick the first brand
    brand = brands.first
    expected = _count_of(brand)
    brand.click()
    page.get_by_test_id("apply-filters").click()

    # Then both apply: the brand's count said how many products there would be
    expect(page).to_have_url(re.compile(r"[?&]brand=.*material=|material=.*[?&]brand="))
    assert _total(page) == expected
    expect(page.get_by_test_id("search-result")).to_have_count(min(expected, PAGE_SIZE))
    assert browser_problems.found == []


def test_load_more_then_back_lands_on_the_same_list(
    open_page: OpenPage, browser_problems: BrowserProblems
) -> None:
    # Given the list of every product (more than a page)
    page = open_page("phone")
    page.goto("/search")
    results = page.get_by_test_id("search-result")
    expect(results).to_have_count(PAGE_SIZE)
    first_page = _result_links(page)

    # When the shopper loads more
    page.get_by_test_id("pagination-next").click()

    # Then the next page is added below, and the address says page 2
    expect(page).to_have_url(re.compile(r"/search\?page=2$"))
    expect(results).to_have_count(2 * PAGE_SIZE)
    loaded = _result_links(page)
    assert loaded[:PAGE_SIZE] == first_page

    # When they open a product from the second page, then come back
    results.nth(PAGE_SIZE + 1).get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/products/"))
    page.go_back()

    # Then the list is the one they left, both pages of it
    expect(page).to_have_url(re.compile(r"/search\?page=2$"))
    expect(results).to_have_count(2 * PAGE_SIZE)
    assert _result_links(page) == loaded

    # And one more step back is the first page alone
    page.go_back()
    expect(page).to_have_url(re.compile(r"/search$"))
    expect(results).to_have_count(PAGE_SIZE)
    assert browser_problems.found == []


def test_suggestions_open_as_you_type_and_answer_the_keyboard(
    open_page: OpenPage, browser_problems: BrowserProblems
) -> None:
    # Given the start of a word that products have in their titles
    page = open_page("phone")
    prefix = _long_word(_home_titles(page))[:4].lower()
    search = page.get_by_test_id("search-input")
    listbox = page.get_by_role("listbox", name="Suggestions")
    options = listbox.get_by_role("option")

    # When the shopper types it
    search.press_sequentially(prefix, delay=40)

    # Then suggestions open under the field, none chosen yet
    expect(listbox).to_be_visible()
    expect(search).to_have_attribute("aria-expanded", "true")
    expect(options.first).to_contain_text(re.compile(prefix, re.IGNORECASE))
    expect(search).not_to_have_attribute("aria-activedescendant", re.compile("."))

    # When they press Escape
    search.press("Escape")

    # Then the list closes and the words stay
    expect(listbox).to_be_hidden()
    expect(search).to_have_attribute("aria-expanded", "false")
    expect(search).to_have_value(prefix)

    # When they open it again with the arrow key, and press Enter on the first suggestion
    search.press("ArrowDown")
    expect(listbox).to_be_visible()
    first = options.first
    expect(first).to_have_attribute("aria-selected", "true")
    first_id = first.get_attribute("id")
    assert first_id
    expect(search).to_have_attribute("aria-activedescendant", first_id)
    title = first.inner_text()
    search.press("Enter")

    # Then that product opens
    expect(page).to_have_url(re.compile(r"/products/"))
    expect(page.get_by_test_id("product-title")).to_have_text(title)
    assert browser_problems.found == []
