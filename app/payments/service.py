"""Payments: starting an attempt on a provider's hosted page, learning its outcome (the shopper's
return, the provider's webhook, later a reconciliation job), and paying the order exactly once.

Unlike other services, the flows here call a provider over the network, so they take the
session factory and run short transactions around each call instead of one around all: a
transaction never stays open (holding the order's and the stock's row locks) while the
provider thinks. Each step is safe to repeat: the provider calls carry idempotency keys made
from our payment id, and `confirm_paid` is the one place an order becomes paid, under the
order's row lock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import SessionMaker, transaction
from app.money import format_money
from app.notifications.service import queue_email
from app.orders import service as orders
from app.orders.models import Order
from app.payments import records
from app.payments.errors import PaymentError, message_for
from app.payments.gateways.base import (
    CaptureMode,
    CheckoutRequest,
    Gateway,
    GatewayError,
    GatewayUnavailable,
    PaymentStatus,
    ProviderState,
)
from app.payments.models import Payment
from app.settings import Settings

log = logging.getLogger("edgecart.payments")

CARD = "card"
BANK_TRANSFER = "bank_transfer"  # app/payments/transfers.py
STALE_START_SECONDS = 120
NOT_HELD = (
    "This order's items are no longer held for you, so it cannot be paid any more. "
    "Please order again."
)
PROBLEMS = {
    "provider_unavailable": message_for("provider_unavailable"),
    "hold_expired": NOT_HELD,
    "not_payable": "This order does not need paying.",
    "busy": "Your payment is being started: wait a moment and reload the page.",
}  # longer than any provider call can take (timeout ≤ 60 s)


@dataclass(frozen=True)
class PaymentMethod:
    code: str
    name: str
    description: str


@dataclass(frozen=True)
class PaymentStart:
    """What happens after `place-order` or "Pay now": `redirect_url` is the provider's hosted
    payment page; None sends the shopper to the order page, where `message` says why."""

    method: str
    redirect_url: str | None
    message: str


@dataclass(frozen=True)
class OrderPayment:
    """What the order page says about paying: the latest attempt's outcome in plain words."""

    state: str | None  # the latest attempt's state, None without any
    problem: str | None  # why the last attempt failed, for the shopper
    waiting: bool  # the shopper paid, the provider has not confirmed yet
    can_pay: bool  # "Pay now" starts a new attempt


def available_methods() -> list[PaymentMethod]:
    """The payment methods a shopper can choose at checkout, card first (the default)."""
    return [
        PaymentMethod(
            CARD, "Card", "Pay by card on our payment provider's secure page. Your card "
            "details never reach this shop.",
        ),
        PaymentMethod(
            BANK_TRANSFER, "Bank transfer", "Place the order now and transfer the amount to our "
            "bank account; we send it once the money arrives.",
        ),
    ]  # fmt: skip


def method_codes() -> frozenset[str]:
    return frozenset(method.code for method in available_methods())


# --- starting an attempt ------------------------------------------------------------------


async def start_payment(
    sessionmaker: SessionMaker, gateway: Gateway, settings: Settings, order_number: str,
    now: datetime, return_query: str = "",
) -> PaymentStart:  # fmt: skip
    """Open a hosted payment page for an unpaid order: a new attempt, after closing the ones
    still open (so a shopper can never pay two of them). Raises PaymentError (not payable, hold
    run out, provider unreachable); nothing is charged then."""
    still_open = await wait_for_open_attempts(sessionmaker, settings, order_number, now)
    for payment in still_open:
        if await close_attempt(sessionmaker, gateway, settings, payment):
            return PaymentStart(CARD, None, "Your payment has gone through already.")
    window = timedelta(minutes=settings.payment_window_minutes)
    hold = window + timedelta(minutes=settings.payment_grace_minutes)
    async with transaction(sessionmaker) as session:
        order = await payable_order(session, order_number)
        if not await orders.extend_reservation(session, order, now + hold, now):
            raise PaymentError("hold_expired", NOT_HELD)
        payment = await records.create_attempt(
            session, order, gateway.name, settings.stripe_capture
        )
    assert payment.id is not None
    key = _key(payment, "start")
    try:
        started = await gateway.start_checkout(
            CheckoutRequest(
                payment_id=payment.id, order_number=order.number,
                amount_minor=payment.amount_minor, currency=payment.currency, email=order.email,
                description=f"Order {order.number}",
                return_url=f"{settings.site_url}/payments/{payment.id}/return{return_query}",
                cancel_url=f"{settings.site_url}/payments/{payment.id}/return{return_query}",
                expires_at=int((now + window).timestamp()),
                capture_mode=CaptureMode(payment.capture_mode), idempotency_key=key,
            )
        )  # fmt: skip
    except GatewayError as error:
        log.warning("payment %s: could not start at %s: %s", payment.id, gateway.name, error)
        async with transaction(sessionmaker) as session:
            failed = await records.get_payment(session, payment.id, lock=True)
            assert failed is not None
            await records.set_failed(session, failed, "provider_unavailable", error.message)
        raise PaymentError("provider_unavailable", message_for("provider_unavailable")) from None
    async with transaction(sessionmaker) as session:
        locked = await records.get_payment(session, payment.id, lock=True)
        assert locked is not None
        await records.set_started(session, locked, started.reference, started.redirect_url, key)
    return PaymentStart(CARD, started.redirect_url, "")


async def payable_order(session: AsyncSession, number: str) -> Order:
    order = await orders.get_order(session, number)
    order = await orders.lock_order(session, order.id) if order and order.id else None
    if order is None:
        raise PaymentError("not_found", "There is no such order.")
    if order.status == orders.PAID or order.status not in {orders.PENDING_PAYMENT}:
        raise PaymentError("not_payable", PROBLEMS["not_payable"])
    return order


async def wait_for_open_attempts(
    sessionmaker: SessionMaker, settings: Settings, order_number: str, now: datetime
) -> list[Payment]:
    """The order's attempts to close before a new one. While another request is starting one
    (a double tap, a replayed place-order) wait for it to finish, then close it like any."""
    deadline = time.monotonic() + settings.stripe_timeout_seconds + 5
    while True:
        try:
            async with transaction(sessionmaker) as session:
                order = await payable_order(session, order_number)
                assert order.id is not None
                return await _open_attempts(session, order.id, now)
        except PaymentError as error:
            if error.code != "busy" or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.1)


async def _open_attempts(session: AsyncSession, order_id: int, now: datetime) -> list[Payment]:
    """Attempts whose hosted page may still take money. One being started right now by
    another request blocks a second (a double tap on "Pay now")."""
    still_open = []
    for payment in await records.list_attempts(session, order_id):
        if payment.state == records.CREATED:
            if not records.is_stale_start(payment, now, STALE_START_SECONDS):
                raise PaymentError("busy", PROBLEMS["busy"])
            await records.set_failed(session, payment, "start_interrupted", "no answer stored")
        elif payment.gateway == BANK_TRANSFER:
            continue  # instructions, not a page taking money: nothing to close at a provider
        elif payment.state in records.UNSETTLED and payment.provider_reference:
            still_open.append(payment)
    return still_open


async def close_attempt(
    sessionmaker: SessionMaker, gateway: Gateway, settings: Settings, payment: Payment
) -> bool:
    """Close an older attempt's hosted page; True if it turned out paid (or authorized)."""
    assert payment.id is not None
    assert payment.provider_reference is not None
    try:
        status = await gateway.expire_checkout(payment.provider_reference, _key(payment, "expire"))
    except GatewayUnavailable:
        raise PaymentError("provider_unavailable", message_for("provider_unavailable")) from None
    except GatewayError as error:
        log.warning("payment %s: could not close: %s", payment.id, error)
        status = PaymentStatus(payment.provider_reference, ProviderState.EXPIRED,
                               payment.amount_minor, payment.currency)  # fmt: skip
    outcome = await settle(sessionmaker, gateway, settings, payment.id, status, "shop")
    return outcome in {records.CAPTURED, records.AUTHORIZED}


def _key(payment: Payment, operation: str) -> str:
    """The idempotency key of one operation on one attempt: a retry is the same request."""
    return f"edgecart-payment-{payment.id}-{operation}"


def operation_key(payment: Payment, operation: str) -> str:
    """`_key` for the other payments modules (reconciliation, refunds)."""
    return _key(payment, operation)


# --- learning the outcome -----------------------------------------------------------------


async def return_from_provider(
    sessionmaker: SessionMaker, gateway: Gateway, settings: Settings, payment_id: int
) -> str:
    """The shopper is back from the hosted page (paid, or "back to the shop"). Whatever the
    query string says, ask the provider; the order's number for the redirect."""
    async with transaction(sessionmaker) as session:
        payment = await records.get_payment(session, payment_id)
    if payment is None or payment.gateway != gateway.name:
        raise PaymentError("not_found", "There is no such payment.")
    if payment.provider_reference is None:
        return payment.order_number
    try:
        status = await gateway.lookup(payment.provider_reference)
    except GatewayError as error:
        # The webhook (or the reconciliation job) will tell; the order page says "waiting".
        log.warning("payment %s: lookup after return failed: %s", payment_id, error)
        return payment.order_number
    await settle(sessionmaker, gateway, settings, payment_id, status, "redirect")
    return payment.order_number


async def receive_webhook(
    sessionmaker: SessionMaker, gateway: Gateway, settings: Settings, payload: bytes,
    signature: str,
) -> str:  # fmt: skip
    """A webhook from the provider: verified (WebhookRejected if not genuine), processed once
    per event id, applied if it is about one of our attempts. Returns what happened."""
    event = gateway.parse_webhook(payload, signature)
    status = event.status
    payment_id = status.payment_id if status is not None else None
    async with transaction(sessionmaker) as session:
        payment = await records.get_payment(session, payment_id, lock=True) if payment_id else None
        if payment is not None and (
            payment.gateway != gateway.name
            or (status and status.reference and payment.provider_reference
                and status.reference != payment.provider_reference)
        ):  # fmt: skip
            payment = None  # not the attempt it names: record the event, touch nothing
        found = payment.id if payment is not None else None
        if not await records.remember_event(
            session, gateway.name, event.event_id, event.event_type, found
        ):
            return "duplicate"
        if payment is None or status is None:
            return "ignored"
        capture = await _apply(session, settings, payment, status, "webhook")
    if capture:
        await _capture(sessionmaker, gateway, settings, payment)
    return f"applied: {payment.state}"


async def settle(
    sessionmaker: SessionMaker, gateway: Gateway, settings: Settings, payment_id: int,
    status: PaymentStatus, source: str,
) -> str:  # fmt: skip
    """Apply a provider's report to an attempt, capture an authorization in manual mode, and
    pay the order when the money is taken. The attempt's state afterwards."""
    async with transaction(sessionmaker) as session:
        payment = await records.get_payment(session, payment_id, lock=True)
        if payment is None:
            raise PaymentError("not_found", "There is no such payment.")
        capture = await _apply(session, settings, payment, status, source)
    if capture:
        await _capture(sessionmaker, gateway, settings, payment)
    return payment.state


async def _apply(
    session: AsyncSession, settings: Settings, payment: Payment, status: PaymentStatus,
    source: str,
) -> bool:  # fmt: skip
    """In the caller's transaction; True when an authorization now wants capturing."""
    await records.apply_status(session, payment, status, source)
    if payment.state == records.CAPTURED:
        await confirm_paid(session, settings, payment, source)
    return payment.state == records.AUTHORIZED and payment.capture_mode == CaptureMode.MANUAL


async def _capture(
    sessionmaker: SessionMaker, gateway: Gateway, settings: Settings, payment: Payment
) -> None:
    """Capture a confirmed authorization straight away (manual capture mode). Both the return
    and the webhook may get here; the idempotency key makes their two calls one capture."""
    assert payment.id is not None
    assert payment.provider_payment_id is not None
    key = _key(payment, "capture")
    try:
        done = await gateway.capture(payment.provider_payment_id, None, key)
    except GatewayError as error:
        log.warning("payment %s: capture failed: %s", payment.id, error)
        return  # still authorized: the reconciliation job captures or voids it later
    captured = PaymentStatus(
        payment.provider_reference or "", ProviderState.CAPTURED if done.state == "succeeded"
        else ProviderState.AUTHORIZED, payment.amount_minor, payment.currency,
        payment.id, payment.provider_payment_id, captured_minor=done.amount_minor,
    )  # fmt: skip
    async with transaction(sessionmaker) as session:
        locked = await records.get_payment(session, payment.id, lock=True)
        assert locked is not None
        await _apply(session, settings, locked, captured, "shop")


async def confirm_paid(
    session: AsyncSession, settings: Settings, payment: Payment, source: str
) -> bool:
    """THE one way an order becomes paid. Under the order's row lock, only the first caller
    finds it waiting for payment: it moves it to `paid` (selling the held stock) and queues
    the payment-received mail, keyed by order, in the outbox. Every later caller — the other
    of redirect and webhook, a duplicate, the reconciliation job — finds it paid and does
    nothing. True if this call paid the order."""
    order = await orders.lock_order(session, payment.order_id)
    assert order is not None
    if order.status != orders.PENDING_PAYMENT:
        if order.status == orders.CANCELLED:
            code = "order_cancelled"
        elif not await _paid_by_this(session, order, payment):
            code = "duplicate_payment"
        else:
            return False  # this attempt paid it already: a repeat
        if payment.failure_code != code:
            log.error("payment %s took money for order %s (%s): it must be refunded",
                      payment.id, order.number, code)  # fmt: skip
            await records.flag(session, payment, code, f"order {order.status}; refund due")
        return False
    await orders.mark_paid(session, order, f"payment:{source}", f"payment {payment.id}")
    await _queue_payment_received(session, settings, order, payment)
    return True


async def _paid_by_this(session: AsyncSession, order: Order, payment: Payment) -> bool:
    assert order.id is not None
    history = await orders.list_history(session, order.id)
    return any(change.to_status == orders.PAID and change.note == f"payment {payment.id}"
               for change in history)  # fmt: skip


async def _queue_payment_received(
    session: AsyncSession, settings: Settings, order: Order, payment: Payment
) -> None:
    token = orders.guest_token(str(settings.secret_key), order.number)
    context = {
        "number": order.number,
        "amount": format_money(payment.captured_minor or payment.amount_minor, payment.currency),
        "order_url": f"{settings.site_url}/orders/{order.number}?key={token}",
    }
    key = f"payment-received:{order.number}"
    await queue_email(session, order.email, "payment_received", context, key=key)


async def orders_awaiting_provider(session: AsyncSession) -> list[str]:
    """Orders whose stock the expiry jobs must leave alone: an attempt of theirs may still take
    money (or has, unknown to us). The reconciliation job asks the provider and decides."""
    return await records.orders_awaiting_provider(session)


def problem_for(code: str) -> str | None:
    """The words for a PaymentError code passed back to the order page; None if unknown."""
    return PROBLEMS.get(code)


# --- what the order page shows --------------------------------------------------------------


async def order_payment(session: AsyncSession, order: Order) -> OrderPayment:
    assert order.id is not None
    attempts = await records.list_attempts(session, order.id)
    latest = attempts[-1] if attempts else None
    unpaid = order.status == orders.PENDING_PAYMENT
    if latest is None:
        return OrderPayment(None, None, False, unpaid)
    waiting = unpaid and latest.state in {records.AUTHORIZED, records.CAPTURED}
    problem = latest.failure_message if unpaid and latest.state in {
        records.FAILED, records.EXPIRED, records.CANCELED,
    } else None  # fmt: skip
    return OrderPayment(latest.state, problem, waiting, unpaid and not waiting)
