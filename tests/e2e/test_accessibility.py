"""axe-core finds no serious or critical accessibility problems on the catalog pages."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.settings import PROJECT_ROOT

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]
BLOCKING = {"serious", "critical"}
RUN_AXE = "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"


def path_to(page: Page, kind: str) -> str:
    """Home, or the first department or product linked from it, whatever the demo catalog holds;
    search pages for a word of the first product's title. A chosen filter (in stock) keeps the
    facets open, so that axe sees them too."""
    if kind == "home":
        return "/"
    if kind == "search-no-results":
        return "/search?q=qqqxq"
    if kind.startswith("account-"):
        return {"account-login": "/account/login", "account-register": "/account/register",
                "account-reset": "/account/password-reset"}[kind]  # fmt: skip
    page.goto("/")
    if kind.startswith("category"):
        link = page.get_by_role("region", name="Shop by department").get_by_role("link").first
    elif kind == "search":
        title = page.get_by_test_id("product-card").first.get_by_test_id("product-title")
        return f"/search?q={title.inner_text().split()[-1]}&in_stock=1"
    else:
        link = page.get_by_test_id("product-card").first.get_by_role("link")
    href = link.get_attribute("href")
    assert href is not None
    return href + ("?in_stock=1" if kind == "category-filtered" else "")


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = node["failureSummary"].replace("\n", "\n      ")
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "kind",
    ["home", "category", "category-filtered", "product", "search", "search-no-results",
     "account-login", "account-register", "account-reset"],
)  # fmt: skip
def test_page_has_no_serious_accessibility_problems(axe_page: Page, kind: str) -> None:
    page = axe_page
    # Given the page, with its header holes filled in by htmx
    page.goto(path_to(page, kind))
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("banner").locator("[hx-get]")).to_have_count(0)

    # When axe-core scans it
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(RUN_AXE, TAGS)

    # Then nothing serious or critical stands in anyone's way
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert blocking == [], f"{page.url}:\n{describe(blocking)}"


def test_open_search_suggestions_have_no_serious_accessibility_problems(axe_page: Page) -> None:
    page = axe_page
    # Given the header's suggestions, open, with one option active
    page.goto("/")
    page.wait_for_load_state("networkidle")
    title = page.get_by_test_id("product-card").first.get_by_test_id("product-title")
    search = page.get_by_test_id("search-input")
    search.press_sequentially(title.inner_text()[:4], delay=40)
    expect(page.get_by_role("listbox", name="Suggestions")).to_be_visible()
    search.press("ArrowDown")
    expect(search).to_have_attribute("aria-activedescendant", "suggestion-1")

    # When axe-core scans the page
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(RUN_AXE, TAGS)

    # Then the combobox and its options stand in nobody's way
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert blocking == [], f"{page.url}:\n{describe(blocking)}"
