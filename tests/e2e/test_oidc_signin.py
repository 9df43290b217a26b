"""A shopper signs in with "Continue with Demo ID": the local OpenID provider's own pages,
its consent step, and back to the shop signed in; a tampered answer signs nobody in."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import PROFILES, BrowserProblems, OpenPage
from tests.factories.accounts import PASSWORD

CALLBACK = re.compile(r"/account/oidc/demo/callback\?")
CONSENT = re.compile(r"/interaction/[^/]+/consent$")


@pytest.fixture(params=list(PROFILES))
def shopper(request: pytest.FixtureRequest, open_page: OpenPage, oidc_shop: str) -> Page:
    """A new shopper's page on the shop that offers "Continue with Demo ID"."""
    return open_page(request.param, base_url=oidc_shop)


def email_for(page: Page, name: str) -> str:
    """One address per test and viewport: the live shop's database lasts the whole session."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    return f"{name}.{width}@example.com"


def continue_with_demo_id(page: Page, email: str, name: str = "", verified: bool = True) -> None:
    page.goto("/account/login")
    page.get_by_role("link", name="Continue with Demo ID").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("E-mail address", exact=True).fill(email)
    page.get_by_label("Name (optional)").fill(name)
    page.get_by_label("This e-mail address is verified").set_checked(verified)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Allow access")).to_be_visible()
    page.get_by_role("button", name="Allow").click()


def expect_signed_in(page: Page, name: str, email: str) -> None:
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_test_id("account-email")).to_have_text(email)
    expect(page.get_by_test_id("account-menu")).to_have_text(name)


def test_continue_with_demo_id_signs_a_new_shopper_in(
    shopper: Page, browser_problems: BrowserProblems
) -> None:
    email = email_for(shopper, "nia")

    continue_with_demo_id(shopper, email, "Nia Okafor")

    expect_signed_in(shopper, "Nia Okafor", email)
    expect(shopper.get_by_role("heading", name="Hello, Nia Okafor")).to_be_visible()
    assert browser_problems.found == []


def test_a_tampered_state_gives_a_calm_page_and_no_session(
    shopper: Page, browser_problems: BrowserProblems
) -> None:
    # Given the provider's answer to the consent, held back before it reaches the shop
    answers: list[str] = []

    def hold(route: Route) -> None:
        # Redirect hops cannot be intercepted, so the test walks them itself (with the
        # browser's cookies) and stops at the shop's door.
        response = route.fetch(max_redirects=0)
        location = urljoin(route.request.url, response.headers["location"])
        while not CALLBACK.search(location):
            response = shopper.request.get(location, max_redirects=0)
            location = urljoin(location, response.headers["location"])
        answers.append(location)
        route.fulfill(status=200, content_type="text/plain", body="held back by the test")

    shopper.route(CONSENT, hold)
    continue_with_demo_id(shopper, email_for(shopper, "mallory"))
    expect(shopper.get_by_text("held back by the test")).to_be_visible()
    shopper.unroute(CONSENT)

    # When it arrives with its state changed
    genuine = urlsplit(answers[0])
    params = dict(parse_qsl(genuine.query)) | {"state": "tampered-state-value"}
    tampered = genuine._replace(query=urlencode(params)).geturl()
    browser_problems.expect_error_status(tampered)
    response = shopper.goto(tampered)

    # Then a calm page explains it, offers another try, and nobody is signed in
    assert response is not None
    assert response.status == 400
    expect(
        shopper.get_by_role("heading", name="Signing in with Demo ID did not work")
    ).to_be_visible()
    expect(shopper.get_by_test_id("oidc-error")).to_contain_text("its state does not match")
    expect(shopper.get_by_test_id("oidc-retry")).to_be_visible()
    expect(shopper.get_by_test_id("account-menu")).to_have_text("Sign in")
    shopper.goto("/account")
    expect(shopper.get_by_test_id("login-email")).to_be_visible()
    assert browser_problems.found == []


def test_an_existing_account_with_the_same_address_is_linked(
    shopper: Page, browser_problems: BrowserProblems
) -> None:
    # Given a shopper who registered with a password, then signed out
    email = email_for(shopper, "ada")
    shopper.goto("/account/register")
    shopper.get_by_test_id("register-name").fill("Ada Lovelace")
    shopper.get_by_test_id("register-email").fill(email)
    shopper.get_by_test_id("register-password").fill(PASSWORD)
    shopper.get_by_test_id("register-submit").click()
    expect(shopper.get_by_test_id("account-email")).to_have_text(email)
    shopper.get_by_test_id("logout").click()
    expect(shopper.get_by_test_id("account-menu")).to_have_text("Sign in")

    # When the same person continues with Demo ID, whose name for them differs
    continue_with_demo_id(shopper, email, "A. Lovelace (Demo ID)")

    # Then they are in the account they made, now linked, not in a second one
    expect_signed_in(shopper, "Ada Lovelace", email)
    exported = shopper.request.get("/account/export").json()
    assert exported["account"]["full_name"] == "Ada Lovelace"
    assert [link["provider"] for link in exported["sign_in_providers"]] == ["demo"]
    assert browser_problems.found == []


def test_an_unverified_address_is_sent_to_the_password_form(
    shopper: Page, browser_problems: BrowserProblems
) -> None:
    email = email_for(shopper, "grace")
    shopper.goto("/account/register")
    shopper.get_by_test_id("register-email").fill(email)
    shopper.get_by_test_id("register-password").fill(PASSWORD)
    shopper.get_by_test_id("register-submit").click()
    shopper.get_by_test_id("logout").click()
    expect(shopper.get_by_test_id("account-menu")).to_have_text("Sign in")

    continue_with_demo_id(shopper, email, verified=False)

    expect(shopper.get_by_test_id("oidc-error")).to_contain_text(
        "Please sign in with your password first"
    )
    shopper.get_by_role("link", name="Sign in with your password").click()
    expect(shopper.get_by_test_id("login-email")).to_be_visible()
    # The refusal is a 400 on purpose; nothing else went wrong.
    assert [p for p in browser_problems.found if "/account/oidc/demo/callback?" not in p] == []
