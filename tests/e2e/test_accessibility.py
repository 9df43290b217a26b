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
    """Home, or the first department or product linked from it, whatever the demo catalog holds."""
    if kind == "home":
        return "/"
    page.goto("/")
    if kind == "category":
        link = page.get_by_role("region", name="Shop by department").get_by_role("link").first
    else:
        link = page.get_by_test_id("product-card").first.get_by_role("link")
    href = link.get_attribute("href")
    assert href is not None
    return href


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = node["failureSummary"].replace("\n", "\n      ")
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


@pytest.mark.parametrize("kind", ["home", "category", "product"])
def test_page_has_no_serious_accessibility_problems(page: Page, kind: str) -> None:
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
