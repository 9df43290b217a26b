"""The README's picture of the shop on a phone, taken from the real pages on every run."""

from __future__ import annotations

from playwright.sync_api import expect

from app.settings import PROJECT_ROOT
from tests.e2e.conftest import BrowserProblems, OpenPage

SHOP_ON_A_PHONE = PROJECT_ROOT / "docs" / "img" / "shop-phone.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 400_000
DECODE_VISIBLE_IMAGES = """() => Promise.all([...document.images]
    .filter(img => img.getBoundingClientRect().top < window.innerHeight)
    .map(img => img.decode()))"""


def test_home_page_on_a_phone_for_the_readme(
    open_page: OpenPage, browser_problems: BrowserProblems
) -> None:
    # Given the home page on a phone (scale 2 keeps the file small and still sharp)
    page = open_page("phone", device_scale_factor=2)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    header = page.get_by_role("banner")
    expect(header.locator("[hx-get]")).to_have_count(0)
    expect(header.get_by_test_id("account-menu")).to_have_text("Sign in")
    expect(header.get_by_test_id("cart-count")).to_have_text("0")
    page.evaluate(DECODE_VISIBLE_IMAGES)

    # When the screen is captured
    SHOP_ON_A_PHONE.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOP_ON_A_PHONE, type="png", full_page=False, animations="disabled")

    # Then a PNG of one phone screen is written, small enough for a README
    data = SHOP_ON_A_PHONE.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (390 * 2, 844 * 2)
    assert len(data) < MAX_BYTES, f"{len(data)} bytes"
    assert browser_problems.found == []
