"""Bank transfer, the second gateway: placing an order to pay by transfer holds its stock for
BANK_TRANSFER_DAYS and mails the instructions; staff record the transfer through the one
`confirm_paid`, so the order is paid once and the shopper gets one payment-received mail."""

from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from app.accounts import service as accounts
from app.accounts.permissions import PermissionDenied
from app.devstack.mailsink import LocalMailSink
from app.inventory.tasks import release_expired_reservations
from app.orders import service as orders
from app.orders.tasks import cancel_expired_orders
from app.payments import transfers
from app.payments.errors import PaymentError
from app.payments.gateways import create_bank_transfer
from app.payments.gateways.base import (
    CaptureMode,
    CheckoutRequest,
    GatewayRefused,
    ProviderState,
    WebhookRejected,
)
from app.settings import Settings, SettingsError
from tests.factories.accounts import make_account
from tests.factories.db import session_for
from tests.factories.orders import place, ready_cart
from tests.unit.accounts.conftest import csrf_token, sign_in

pytestmark = pytest.mark.anyio


async def _scalar(settings: Settings, sql: str, **params: object) -> object:
    async with session_for(settings.database_url) as session:
        return (await session.execute(text(sql), params)).scalar_one()


async def _place_by_transfer(settings: Settings, email: str = "tom@example.com") -> str:
    ready = await ready_cart(settings.database_url, email=email, price_minor=1999, quantity=1)
    return (await place(settings, ready, payment_method="bank_transfer")).order.number


async def _record(settings: Settings, email: str, number: str) -> str:
    async with session_for(settings.database_url) as session:
        actor = await accounts.find_account_by_email(session, email)
        assert actor is not None
        return await transfers.record_transfer(session, settings, actor, number)


# --- the gateway ------------------------------------------------------------------------------


async def test_the_gateway_has_no_page_and_refuses_what_a_transfer_cannot_do(
    settings: Settings,
) -> None:
    gateway = create_bank_transfer(settings)
    request = CheckoutRequest(
        payment_id=7, order_number="EC-100007", amount_minor=2495, currency="EUR",
        email="a@example.com", description="Order EC-100007", return_url="", cancel_url="",
        expires_at=0, capture_mode=CaptureMode.AUTOMATIC, idempotency_key="k",
    )  # fmt: skip

    started = await gateway.start_checkout(request)
    looked_up = await gateway.lookup("EC-100007")

    assert (started.redirect_url, started.reference) == ("", "EC-100007")
    assert looked_up.state is ProviderState.PENDING  # only staff know when money arrived
    with pytest.raises(GatewayRefused):
        await gateway.refund("EC-100007", None, "k")
    with pytest.raises(GatewayRefused):
        await gateway.capture("EC-100007", None, "k")
    with pytest.raises(WebhookRejected):
        gateway.parse_webhook(b"{}", "t=1,v1=0")
    instructions = gateway.instructions("EC-1", 100, "EUR", datetime.now(UTC))
    assert instructions.iban_grouped == "DE89 3704 0044 0532 0130 00"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        pytest.param("BANK_TRANSFER_IBAN", "DE89370400440532013001", "not a valid IBAN", id="iban"),
        pytest.param("BANK_TRANSFER_BIC", "COBA", "not a BIC", id="bic"),
        pytest.param("BANK_TRANSFER_DAYS", "0", "between 1 and 60", id="days"),
        pytest.param("PAYMENT_BREAKER_FAILURES", "0", "between 1 and 100", id="failures"),
    ],
)
def test_bad_bank_and_breaker_settings_are_refused(name: str, value: str, words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        Settings.from_env({name: value})


def test_an_iban_with_spaces_is_accepted() -> None:
    settings = Settings.from_env({"BANK_TRANSFER_IBAN": "gb82 west 1234 5698 7654 32"})
    assert settings.bank_transfer_iban == "GB82WEST12345698765432"


# --- placing ----------------------------------------------------------------------------------


async def test_an_order_by_transfer_holds_its_stock_for_the_days_and_mails_the_instructions(
    settings: Settings, worker: subprocess.Popen[bytes], mail_sink: LocalMailSink
) -> None:
    days = replace(settings, bank_transfer_days=5)
    before = datetime.now(UTC)

    number = await _place_by_transfer(days, "transfer.mail@example.com")
    mail = await asyncio.to_thread(
        mail_sink.wait_for, lambda m: m.to == "transfer.mail@example.com"
    )

    held = await _scalar(days, "SELECT reserved_until FROM shop_order WHERE number = :n", n=number)
    stock = await _scalar(
        days, "SELECT min(expires_at) FROM stock_reservation WHERE reference = :n", n=number
    )
    assert isinstance(held, datetime)
    assert isinstance(stock, datetime)
    assert before + timedelta(days=5) <= held <= datetime.now(UTC) + timedelta(days=5)
    assert stock >= before + timedelta(days=5)
    state = await _scalar(
        days, "SELECT gateway || ':' || state FROM payment WHERE order_number = :n", n=number
    )
    assert state == "bank_transfer:pending"
    assert "DE89 3704 0044 0532 0130 00" in mail.text
    assert "COBADEFFXXX" in mail.text
    assert f"Reference: {number}" in mail.text
    assert "€24.94" in mail.text  # 19.99 + 4.95 standard shipping
    assert "Edgecart Demo Shop" in mail.html


# --- staff record the transfer ----------------------------------------------------------------


async def test_a_role_without_the_permission_cannot_record_a_transfer(settings: Settings) -> None:
    number = await _place_by_transfer(settings)
    await make_account(settings.database_url, "clerk@example.com", role="clerk")

    with pytest.raises(PermissionDenied):
        await _record(settings, "clerk@example.com", number)

    status = await _scalar(settings, "SELECT status FROM shop_order WHERE number = :n", n=number)
    assert status == "pending_payment"


async def test_recording_twice_pays_once_with_one_mail(
    settings: Settings, worker: subprocess.Popen[bytes], mail_sink: LocalMailSink
) -> None:
    number = await _place_by_transfer(settings, "paid.once@example.com")
    await make_account(settings.database_url, "manager@example.com", role="manager")
    await make_account(settings.database_url, "owner@example.com", role="owner")

    outcomes = await asyncio.gather(
        _record(settings, "manager@example.com", number),
        _record(settings, "owner@example.com", number),
    )
    again = await _record(settings, "owner@example.com", number)
    await asyncio.to_thread(
        mail_sink.wait_for,
        lambda m: m.to == "paid.once@example.com" and m.subject.startswith("Payment received"),
    )
    await _wait_until_relayed(settings, f"payment-received:{number}")

    assert sorted(outcomes) == [transfers.ALREADY_PAID, transfers.PAID]
    assert again == transfers.ALREADY_PAID
    went_paid = await _scalar(
        settings, "SELECT count(*) FROM order_status_change c JOIN shop_order o "
        "ON o.id = c.order_id WHERE o.number = :n AND c.to_status = 'paid'", n=number,
    )  # fmt: skip
    assert went_paid == 1
    assert await _scalar(settings, "SELECT status FROM shop_order WHERE number = :n",
                         n=number) == "paid"  # fmt: skip
    mails = [
        m for m in mail_sink.read()
        if m.to == "paid.once@example.com" and m.subject.startswith("Payment received")
    ]  # fmt: skip
    assert len(mails) == 1
    audit = await _scalar(
        settings, "SELECT count(*) FROM staff_audit_entry WHERE action = "
        "'payments.record_transfer' AND subject = :n", n=number,
    )  # fmt: skip
    assert audit == 1


async def test_a_transfer_for_a_cancelled_order_is_flagged_to_send_back(
    settings: Settings,
) -> None:
    number = await _place_by_transfer(settings)
    await make_account(settings.database_url, "owner@example.com", role="owner")
    async with session_for(settings.database_url) as session:
        order = await orders.get_order(session, number)
        assert order is not None
        await orders.cancel_order(session, order, "test")

    outcome = await _record(settings, "owner@example.com", number)

    assert outcome == transfers.REFUND_DUE
    flagged = await _scalar(
        settings, "SELECT failure_code FROM payment WHERE order_number = :n", n=number
    )
    assert flagged == "order_cancelled"


async def test_an_order_paid_by_card_has_no_transfer_to_record(settings: Settings) -> None:
    ready = await ready_cart(settings.database_url)
    number = (await place(settings, ready)).order.number
    await make_account(settings.database_url, "owner@example.com", role="owner")

    with pytest.raises(PaymentError) as refused:
        await _record(settings, "owner@example.com", number)

    assert refused.value.code == "no_transfer"


async def _wait_until_relayed(settings: Settings, key: str) -> None:
    """Until the worker has finished the outbox event (a second mail would be sent by then)."""
    deadline = time.monotonic() + 20
    while not await _scalar(
        settings, "SELECT bool_and(done_at IS NOT NULL) FROM outbox_event WHERE key = :k", k=key
    ):
        assert time.monotonic() < deadline, f"outbox event {key} was not done in time"
        await asyncio.sleep(0.05)


# --- the staff pages --------------------------------------------------------------------------


async def test_staff_pages_list_the_order_and_only_a_permitted_role_records_it(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    number = await _place_by_transfer(settings)
    await make_account(settings.database_url, "clerk@example.com", role="clerk")
    await make_account(settings.database_url, "owner@example.com", role="owner")
    anonymous = await client.get("/admin/orders")

    await sign_in(client, "clerk@example.com")
    listing = await client.get("/admin/orders")
    clerk_page = await client.get(f"/admin/orders/{number}")
    token = await csrf_token(client, "/account")
    refused = await client.post(
        f"/admin/orders/{number}/transfer-received", data={"csrf_token": token}
    )
    await client.post("/account/logout", data={"csrf_token": token})
    await sign_in(client, "owner@example.com")
    token = await csrf_token(client, f"/admin/orders/{number}")
    recorded = await client.post(
        f"/admin/orders/{number}/transfer-received", data={"csrf_token": token}
    )
    done = await client.get(recorded.headers["location"])
    unknown = await client.get("/admin/orders/EC-999999")

    assert anonymous.status_code == 404
    assert listing.status_code == 200
    assert f">{number}</a>" in listing.text
    assert 'data-testid="admin-transfer-received"' not in clerk_page.text
    assert refused.status_code == 403
    assert recorded.status_code == 303
    assert 'data-status="paid"' in done.text
    assert "the order is paid" in done.text
    assert unknown.status_code == 404


async def test_an_order_whose_transfer_never_came_is_cancelled_when_its_hold_ends(
    settings: Settings, job_context: dict[str, object]
) -> None:
    number = await _place_by_transfer(settings, "never.paid@example.com")
    kept = await _place_by_transfer(settings, "still.waiting@example.com")
    async with session_for(settings.database_url) as session:
        for table, column, key in (("shop_order", "reserved_until", "number"),
                                   ("stock_reservation", "expires_at", "reference")):  # fmt: skip
            await session.execute(
                text(f"UPDATE {table} SET {column} = now() - interval '1 second' "
                     f"WHERE {key} = :n"), {"n": number},
            )  # fmt: skip

    cancelled = await cancel_expired_orders(job_context)
    released = await release_expired_reservations(job_context)

    assert cancelled == 1
    assert released == 0  # the cancellation released the stock already
    statuses = await _scalar(
        settings, "SELECT string_agg(number || ':' || status, ',' ORDER BY number) FROM shop_order"
    )
    assert statuses == f"{number}:cancelled,{kept}:pending_payment"
    held = await _scalar(
        settings, "SELECT count(*) FROM stock_reservation WHERE status = 'held' "
        "AND reference = :n", n=number,
    )  # fmt: skip
    assert held == 0
