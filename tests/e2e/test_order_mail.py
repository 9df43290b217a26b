"""A guest who ordered on a phone gets the confirmation mail, and its link opens the order in
any browser: the live shop's own arq worker relays the outbox to the session's mail sink."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

from playwright.sync_api import expect

from app.devstack.mailsink import LocalMailSink
from tests.e2e.conftest import OpenPage
from tests.e2e.test_checkout import add_something_in_stock, choose_bank_transfer, fill_details


class _Links(HTMLParser):
    """The href of every <a> in an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def links_in(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def test_the_confirmation_mail_arrives_and_its_link_opens_the_order(
    open_page: OpenPage, base_url: str, mail_sink: LocalMailSink
) -> None:
    email = f"mail.{uuid.uuid4().hex[:10]}@example.com"  # the sink is shared: our own address
    page = open_page("phone")
    add_something_in_stock(page)
    page.goto("/cart")
    page.get_by_test_id("checkout-button").click()
    fill_details(page, email)
    page.get_by_role("button", name="Continue to review").click()
    choose_bank_transfer(page)  # the order stays here, waiting, instead of the card's page
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("order-number")).to_have_text(re.compile(r"^EC-\d+$"))
    number = page.get_by_test_id("order-number").inner_text()

    mail = mail_sink.wait_for(lambda mail: mail.to == email, timeout=20)

    assert mail.subject == f"Your Edgecart order {number}"
    assert mail.message.is_multipart()
    assert mail.text  # a plain-text part …
    assert mail.html  # … and an HTML part
    assert number in mail.text
    order_links = [
        href for href in links_in(mail.html) if href.startswith(f"{base_url}/orders/{number}?")
    ]
    assert order_links, f"no link to the order in the HTML part: {links_in(mail.html)}"
    link = order_links[0]
    assert re.fullmatch(rf"{re.escape(base_url)}/orders/{number}\?key=[0-9a-f]{{64}}", link)
    assert link in mail.text  # the plain-text part carries the same signed link

    # Someone else's browser: no session, only the mail's link.
    reader = open_page("phone")
    reader.goto(link)
    expect(reader.get_by_test_id("order-number")).to_have_text(number)
    expect(reader.get_by_test_id("order-status")).to_have_attribute(
        "data-status", "pending_payment"
    )
    # Without the key the same browser sees nothing: the signature is what lets it in.
    unsigned = reader.goto(f"/orders/{number}")
    assert unsigned is not None
    assert unsigned.status == 404
