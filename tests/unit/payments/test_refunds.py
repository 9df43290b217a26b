"""Refunds from the staff page `/admin/orders/<number>/refund`, through the real Stripe SDK to
the payment simulator: one refund per form key (at the provider and in our records), partial
then full with the order's status following, amounts checked, roles without the permission
refused, and the shopper's mail."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from app.devstack.mailsink import LocalMailSink
from app.orders.models import Order
from app.settings import Settings
from tests.factories.accounts import PASSWORD, make_account
from tests.factories.orders import make_order
from tests.factories.payments import GOOD_CARD, local_path, pay_on_hosted_page, sim_events
from tests.unit.payments.test_flow import _hosted_page, _scalar

pytestmark = pytest.mark.anyio
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
_KEY = re.compile(r'name="key" value="([A-Za-z0-9_-]+)"')


async def _paid_order(client: httpx.AsyncClient, settings: Settings, email: str) -> Order:
    order = await make_order(settings, email=email)
    paid = await pay_on_hosted_page(await _hosted_page(client, settings, order.number), GOOD_CARD)
    await client.get(local_path(paid.headers["location"]))
    assert await _scalar(settings, "SELECT status FROM shop_order") == "paid"
    return order


async def _as_staff(client: httpx.AsyncClient, settings: Settings, role: str) -> None:
    email = f"{role}@example.com"
    await make_account(settings.database_url, email, role=role)
    signed_in = await client.post("/account/login", data={"email": email, "password": PASSWORD})
    assert signed_in.headers["location"] == "/admin"


async def _form(client: httpx.AsyncClient, number: str) -> dict[str, str]:
    page = await client.get(f"/admin/orders/{number}/refund")
    csrf, key = _CSRF.search(page.text), _KEY.search(page.text)
    assert page.status_code == 200, page.text
    assert csrf is not None
    assert key is not None
    return {"csrf_token": csrf.group(1), "key": key.group(1)}


async def _refund(
    client: httpx.AsyncClient, number: str, form: dict[str, str], amount: str
) -> httpx.Response:
    return await client.post(f"/admin/orders/{number}/refund", data={**form, "amount": amount})


async def _refund_rows(settings: Settings) -> object:
    return await _scalar(
        settings, "SELECT string_agg(state || ':' || amount_minor, ',' ORDER BY id) "
        "FROM payment_transaction WHERE kind = 'refund'",
    )  # fmt: skip


async def test_the_same_form_sent_twice_refunds_once(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    order = await _paid_order(client, settings, "twice@example.com")
    await _as_staff(client, settings, "manager")
    form = await _form(client, order.number)

    first = await _refund(client, order.number, form, "10.00")
    second = await _refund(client, order.number, form, "10.00")
    page = await client.get(first.headers["location"])

    assert (first.status_code, second.status_code) == (303, 303)
    assert len(await sim_events(settings, "refund.created")) == 1
    assert await _refund_rows(settings) == "succeeded:1000"
    assert 'data-status="partially_refunded"' in page.text
    assert "Refunded €10.00." in page.text
    assert (
        await _scalar(settings, "SELECT count(*) FROM outbox_event WHERE key LIKE 'refund:%'") == 1
    )


async def test_partial_then_full_refund_moves_the_order_and_the_payment(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    order = await _paid_order(client, settings, "partial@example.com")
    await _as_staff(client, settings, "owner")
    rest = order.total_minor - 500

    partial = await _refund(client, order.number, await _form(client, order.number), "5")
    after_partial = await _scalar(settings, "SELECT status FROM shop_order")
    full = await _refund(
        client, order.number, await _form(client, order.number), f"{rest // 100}.{rest % 100:02d}"
    )
    page = await client.get(f"/admin/orders/{order.number}/refund")

    assert (partial.status_code, full.status_code) == (303, 303)
    assert after_partial == "partially_refunded"
    assert await _scalar(settings, "SELECT status FROM shop_order") == "refunded"
    assert await _scalar(settings, "SELECT state || ':' || refunded_minor FROM payment") == (
        f"refunded:{order.total_minor}"
    )
    assert await _refund_rows(settings) == f"succeeded:500,succeeded:{rest}"
    assert 'data-testid="admin-refund-amount"' not in page.text  # nothing left to refund
    history = await _scalar(
        settings, "SELECT string_agg(to_status, ',' ORDER BY id) FROM order_status_change"
    )
    assert history == "pending_payment,paid,partially_refunded,refunded"
    audit = await _scalar(settings, "SELECT count(*) FROM staff_audit_entry WHERE action = "
                          "'payments.refund'")  # fmt: skip
    assert audit == 2


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        pytest.param("1000.00", "more than is left to refund", id="more-than-left"),
        pytest.param("0", "above zero", id="zero"),
        pytest.param("-5", "above zero", id="negative"),
        pytest.param("ten", "Enter an amount such as 12.50", id="not-a-number"),
        pytest.param("1.234", "Enter an amount such as 12.50", id="three-decimals"),
    ],
)
async def test_a_bad_amount_re_renders_the_form_with_the_reason(
    client: httpx.AsyncClient, settings: Settings, amount: str, words: str
) -> None:
    order = await _paid_order(client, settings, "bad-amount@example.com")
    await _as_staff(client, settings, "owner")
    form = await _form(client, order.number)

    response = await _refund(client, order.number, form, amount)

    assert response.status_code == 422
    assert 'data-testid="form-error"' in response.text
    assert words in response.text
    assert f'name="key" value="{form["key"]}"' in response.text  # the same key to try again
    assert await sim_events(settings, "refund.created") == []
    assert await _refund_rows(settings) is None
    assert await _scalar(settings, "SELECT status FROM shop_order") == "paid"


@pytest.mark.parametrize("role", ["clerk", "support"])
async def test_a_role_without_the_permission_is_refused(
    client: httpx.AsyncClient, settings: Settings, role: str
) -> None:
    order = await _paid_order(client, settings, f"{role}-refused@example.com")
    await _as_staff(client, settings, role)
    page = await client.get(f"/admin/orders/{order.number}/refund")
    token = _CSRF.search((await client.get("/account")).text)  # per session, any page
    assert token is not None

    response = await client.post(
        f"/admin/orders/{order.number}/refund",
        data={"csrf_token": token.group(1), "key": "k" * 32, "amount": "1.00"},
    )

    assert page.status_code == 200
    assert 'data-testid="admin-refund-amount"' not in page.text
    assert "Your role may not refund payments." in page.text
    assert response.status_code == 403
    assert await sim_events(settings, "refund.created") == []
    assert await _refund_rows(settings) is None


async def test_shoppers_and_visitors_get_404(client: httpx.AsyncClient, settings: Settings) -> None:
    order = await _paid_order(client, settings, "shopper-404@example.com")
    anonymous = await client.get(f"/admin/orders/{order.number}/refund")
    await make_account(settings.database_url, "ada@example.com")
    await client.post("/account/login", data={"email": "ada@example.com", "password": PASSWORD})

    shopper = await client.get(f"/admin/orders/{order.number}/refund")

    assert (anonymous.status_code, shopper.status_code) == (404, 404)


async def test_an_unpaid_order_has_nothing_to_refund(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    order = await make_order(settings)
    await _as_staff(client, settings, "owner")

    page = await client.get(f"/admin/orders/{order.number}/refund")

    assert 'data-testid="admin-refund-none"' in page.text
    assert 'data-testid="admin-refund-amount"' not in page.text


async def test_the_shopper_gets_a_refund_mail_in_text_and_html(
    client: httpx.AsyncClient, settings: Settings, worker: object, mail_sink: LocalMailSink
) -> None:
    order = await _paid_order(client, settings, "refund-mail@example.com")
    await _as_staff(client, settings, "owner")

    await _refund(client, order.number, await _form(client, order.number), "2.50")
    mail = await asyncio.to_thread(
        mail_sink.wait_for,
        lambda m: m.to == "refund-mail@example.com" and m.subject.startswith("Refund"),
    )

    assert mail.subject == f"Refund for your Edgecart order {order.number}"
    assert "We have refunded €2.50" in mail.text
    assert "We have refunded <strong>€2.50</strong>" in mail.html
    assert f"/orders/{order.number}?key=" in mail.text
