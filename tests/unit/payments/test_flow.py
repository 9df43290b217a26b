"""Card payments end to end over HTTP: the shop's routes, the real Stripe SDK and the payment
simulator. Webhooks are the simulator's own events (body and signature as it made them),
posted to the in-process shop by the test, so their order is the test's to choose."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import text

from app.orders import service as orders
from app.settings import Settings
from tests.conftest import _client_for
from tests.factories.db import session_for
from tests.factories.orders import make_order
from tests.factories.payments import (
    DECLINED_CARD,
    GOOD_CARD,
    NO_FUNDS_CARD,
    deliver,
    local_path,
    pay_on_hosted_page,
    set_faults,
    sim_events,
)

pytestmark = pytest.mark.anyio


async def _scalar(settings: Settings, sql: str, **params: object) -> object:
    async with session_for(settings.database_url) as session:
        return (await session.execute(text(sql), params)).scalar_one()


async def _paid_count(settings: Settings, number: str) -> tuple[object, object, object]:
    """(times the order went to paid, payment-received mails queued, its status now)."""
    went_paid = await _scalar(
        settings,
        "SELECT count(*) FROM order_status_change c JOIN shop_order o ON o.id = c.order_id "
        "WHERE o.number = :n AND c.to_status = 'paid'",
        n=number,
    )
    mails = await _scalar(
        settings, "SELECT count(*) FROM outbox_event WHERE key = :k", k=f"payment-received:{number}"
    )
    status = await _scalar(settings, "SELECT status FROM shop_order WHERE number = :n", n=number)
    return went_paid, mails, status


async def _start(client: httpx.AsyncClient, settings: Settings, number: str) -> httpx.Response:
    """ "Pay now" as the holder of the order's signed link."""
    key = orders.guest_token(str(settings.secret_key), number)
    return await client.post(f"/orders/{number}/pay", data={"key": key})


async def _hosted_page(client: httpx.AsyncClient, settings: Settings, number: str) -> str:
    started = await _start(client, settings, number)
    assert started.status_code == 303, started.text
    url = started.headers["location"]
    assert url.startswith(f"{settings.stripe_api_base}/c/pay/cs_test_")
    return url


async def test_redirect_then_webhooks_pay_the_order_once(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    order = await make_order(settings)
    hosted = await _hosted_page(client, settings, order.number)

    paid = await pay_on_hosted_page(hosted, GOOD_CARD)
    back = await client.get(local_path(paid.headers["location"]))
    page = await client.get(back.headers["location"])
    deliveries = [await deliver(client, event) for event in await sim_events(settings)]

    assert paid.status_code == 303
    assert back.status_code == 303
    assert back.headers["location"].startswith(f"/orders/{order.number}?key=")
    assert 'data-status="paid"' in page.text
    assert [response.status_code for response in deliveries] == [200] * len(deliveries)
    assert await _paid_count(settings, order.number) == (1, 1, "paid")
    held = await _scalar(
        settings, "SELECT count(*) FROM stock_reservation WHERE reference = :n AND status = "
        "'committed'", n=order.number,
    )  # fmt: skip
    assert held == 1


async def test_a_webhook_before_the_redirect_pays_and_the_redirect_changes_nothing(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    order = await make_order(settings)
    hosted = await _hosted_page(client, settings, order.number)
    paid = await pay_on_hosted_page(hosted, GOOD_CARD)

    completed = await sim_events(settings, "checkout.session.completed")
    first = await deliver(client, completed[0])
    after_webhook = await _paid_count(settings, order.number)
    await client.get(local_path(paid.headers["location"]))

    assert first.json()["outcome"] == "applied: captured"
    assert after_webhook == (1, 1, "paid")
    assert await _paid_count(settings, order.number) == (1, 1, "paid")


async def test_a_duplicate_webhook_changes_nothing_twice(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    order = await make_order(settings)
    await pay_on_hosted_page(await _hosted_page(client, settings, order.number), GOOD_CARD)
    [succeeded] = await sim_events(settings, "payment_intent.succeeded")

    first = await deliver(client, succeeded)
    again = await deliver(client, succeeded)

    assert first.json()["outcome"] == "applied: captured"
    assert (again.status_code, again.json()["outcome"]) == (200, "duplicate")
    assert await _paid_count(settings, order.number) == (1, 1, "paid")
    recorded = await _scalar(settings, "SELECT count(*) FROM payment_webhook_event")
    assert recorded == 1


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda event: {**event, "signature": "t=1700000000,v1=" + "0" * 64},
                     id="wrong-signature"),
        pytest.param(lambda event: {**event, "signature": ""}, id="no-signature"),
        pytest.param(lambda event: {**event, "payload": event["payload"].replace(
            '"status": "succeeded"', '"status": "succeeded" ')}, id="body-changed"),
        pytest.param(lambda event: {**event, "signature": "garbage"}, id="garbled-header"),
    ],
)  # fmt: skip
async def test_a_forged_webhook_is_rejected_and_logged(
    client: httpx.AsyncClient, settings: Settings, caplog: pytest.LogCaptureFixture, forge: object
) -> None:
    order = await make_order(settings)
    await pay_on_hosted_page(await _hosted_page(client, settings, order.number), GOOD_CARD)
    [succeeded] = await sim_events(settings, "payment_intent.succeeded")

    with caplog.at_level(logging.WARNING, logger="edgecart.payments"):
        response = await deliver(client, forge(succeeded))  # type: ignore[operator]

    assert response.status_code == 400
    assert response.json()["code"] in {"bad_signature", "bad_payload"}
    assert set(response.json()) == {"code", "message"}
    assert any("webhook rejected" in record.getMessage() for record in caplog.records)
    assert await _paid_count(settings, order.number) == (0, 0, "pending_payment")
    assert await _scalar(settings, "SELECT count(*) FROM payment_webhook_event") == 0


async def test_a_webhook_signed_with_another_secret_is_rejected(
    settings: Settings, payment_simulator: object
) -> None:
    order = await make_order(settings)
    other = replace(settings, stripe_webhook_secret=type(settings.stripe_webhook_secret)("whsec_x"))
    async with _client_for(other) as forged_shop, _client_for(settings) as shop:
        await pay_on_hosted_page(await _hosted_page(shop, settings, order.number), GOOD_CARD)
        [succeeded] = await sim_events(settings, "payment_intent.succeeded")
        response = await deliver(forged_shop, succeeded)

    assert response.status_code == 400
    assert await _paid_count(settings, order.number) == (0, 0, "pending_payment")


@pytest.mark.parametrize(
    ("card", "words"),
    [
        pytest.param(DECLINED_CARD, "Your card was declined.", id="declined"),
        pytest.param(NO_FUNDS_CARD, "Your card has insufficient funds.", id="insufficient-funds"),
    ],
)
async def test_a_declined_card_is_explained_and_a_new_attempt_succeeds(
    client: httpx.AsyncClient, settings: Settings, card: str, words: str
) -> None:
    order = await make_order(settings)
    first = await _hosted_page(client, settings, order.number)

    refused = await pay_on_hosted_page(first, card)
    back_link = re.search(r'href="([^"]+)" data-testid="back-to-shop"', refused.text)
    assert back_link is not None
    back = await client.get(local_path(back_link.group(1).replace("&amp;", "&")))
    page = await client.get(back.headers["location"])
    second = await _hosted_page(client, settings, order.number)
    old_page = await pay_on_hosted_page(first, GOOD_CARD)
    paid = await pay_on_hosted_page(second, GOOD_CARD)
    await client.get(local_path(paid.headers["location"]))

    assert refused.status_code == 402
    assert words in refused.text  # on the hosted page, which stays open for another card
    assert 'data-status="pending_payment"' in page.text
    assert words in page.text
    assert 'data-testid="pay-now"' in page.text
    assert second != first
    assert old_page.status_code == 409  # the first page was closed: it cannot take money now
    assert await _paid_count(settings, order.number) == (1, 1, "paid")
    states = await _scalar(
        settings, "SELECT string_agg(state, ',' ORDER BY id) FROM payment WHERE order_number = :n",
        n=order.number,
    )  # fmt: skip
    assert states == "expired,captured"


async def test_manual_capture_is_captured_right_after_the_authorization(
    settings: Settings,
) -> None:
    manual = replace(settings, stripe_capture="manual")
    order = await make_order(manual)
    async with _client_for(manual) as shop:
        paid = await pay_on_hosted_page(await _hosted_page(shop, manual, order.number), GOOD_CARD)
        authorized = await sim_events(manual, "payment_intent.amount_capturable_updated")
        await deliver(shop, authorized[0])  # the webhook and the return both try to capture
        await shop.get(local_path(paid.headers["location"]))

    assert await _paid_count(manual, order.number) == (1, 1, "paid")
    captures = await sim_events(manual, "payment_intent.succeeded")
    assert len(captures) == 1  # one capture at the provider: the same idempotency key
    kinds = await _scalar(
        manual, "SELECT string_agg(kind, ',' ORDER BY id) FROM payment_transaction"
    )
    assert kinds == "start,authorize,capture"


async def test_an_unreachable_provider_leaves_the_order_payable_and_says_so(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    order = await make_order(settings)
    await set_faults(settings, fail_next=1)

    started = await _start(client, settings, order.number)
    page = await client.get(started.headers["location"])
    retried = await _start(client, settings, order.number)

    assert started.status_code == 303
    assert started.headers["location"].startswith(f"/orders/{order.number}?")
    assert "We could not reach the payment provider" in page.text
    assert 'data-testid="pay-now"' in page.text
    assert retried.headers["location"].startswith(settings.stripe_api_base)


async def test_only_who_may_see_the_order_may_pay_it(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    order = await make_order(settings)

    response = await client.post(f"/orders/{order.number}/pay", data={"key": "0" * 64})

    assert response.status_code == 404
    assert await _scalar(settings, "SELECT count(*) FROM payment") == 0
