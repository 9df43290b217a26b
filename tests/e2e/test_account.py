"""A shopper makes an account on a phone, signs out and in again; hostile input stays inert."""

from __future__ import annotations

import re

from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import BrowserProblems, OpenPage

PASSWORD = "a phone-typed password"


def register(page: Page, email: str, name: str) -> None:
    page.goto("/account/register")
    page.get_by_label("Your name").fill(name)
    page.get_by_test_id("register-email").fill(email)
    page.get_by_test_id("register-password").fill(PASSWORD)
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("flash-message")).to_have_text("Welcome! Your account is ready.")


def test_register_sign_out_and_sign_in_on_a_phone(
    open_page: OpenPage, browser_problems: BrowserProblems, base_url: str
) -> None:
    page = open_page("phone")
    browser_problems.expect_error_status(f"{base_url}/account/login")  # the wrong password: 422
    register(page, "phone.shopper@example.com", "Pia Phone")

    # The cached home page fills its account hole with the signed-in name.
    page.goto("/")
    expect(page.get_by_role("banner").get_by_test_id("account-menu")).to_have_text("Pia Phone")

    page.goto("/account")
    page.get_by_test_id("logout").click()
    expect(page.get_by_role("banner").get_by_test_id("account-menu")).to_have_text("Sign in")

    page.goto("/account/login")
    page.get_by_test_id("login-email").fill("phone.shopper@example.com")
    page.get_by_test_id("login-password").fill("not my password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("do not match an account")

    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_test_id("account-email")).to_have_text("phone.shopper@example.com")
    assert browser_problems.found == []


def test_script_in_a_name_and_a_search_never_runs(open_page: OpenPage) -> None:
    page = open_page("phone")
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    payload = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    register(page, "eve.payload@example.com", payload)

    page.goto("/")
    menu = page.get_by_role("banner").get_by_test_id("account-menu")
    expect(menu).to_have_text(payload)  # shown as text, not run as markup
    page.goto("/account/addresses/new")
    page.get_by_label("Full name").fill(payload)
    page.get_by_label("Street and number").fill(payload)
    page.get_by_label("Postal code").fill("10115")
    page.get_by_label("City").fill("Berlin")
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_test_id("address")).to_contain_text(payload)
    page.goto("/search?q=" + payload)
    page.get_by_test_id("search-input").fill(payload)
    page.get_by_test_id("search-input").press("Enter")
    page.wait_for_load_state("networkidle")

    assert dialogs == []


def test_a_form_posted_from_another_site_is_refused(open_page: OpenPage, base_url: str) -> None:
    page = open_page("phone")
    # A page from a different origin posting to the shop: the browser sends
    # Sec-Fetch-Site: cross-site, and the shop refuses before doing anything.
    page.set_content(
        f'<form method="post" action="{base_url}/account/login">'
        '<input name="email" value="x@example.com"><input name="password" value="x">'
        '<button type="submit">Go</button></form>'
    )
    page.get_by_role("button", name="Go").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("That form came from another site")
