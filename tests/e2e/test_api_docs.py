"""The API reference page reads well on a phone: no sideways scrolling, axe clean, no scripts."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import BrowserProblems
from tests.e2e.test_accessibility import AXE, BLOCKING, RUN_AXE, TAGS, describe


def test_api_docs_are_readable_and_accessible(
    axe_page: Page, browser_problems: BrowserProblems
) -> None:
    page = axe_page
    # Given the API reference
    page.goto("/api/v1/docs")
    page.wait_for_load_state("networkidle")

    # Then every endpoint is listed, its examples open, and nothing is wider than the screen
    expect(page.get_by_role("heading", name="List products")).to_be_visible()
    expect(page.get_by_role("link", name="OpenAPI 3.1 document")).to_be_visible()
    expect(page.locator("pre").first).to_be_visible()
    overflow = page.evaluate(
        "document.scrollingElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"

    # And axe-core finds nothing serious, and the browser saw no errors
    page.add_script_tag(path=str(AXE))
    results = page.evaluate(RUN_AXE, TAGS)
    blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert blocking == [], f"{page.url}:\n{describe(blocking)}"
    assert browser_problems.found == []
