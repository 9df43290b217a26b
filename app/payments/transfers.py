"""Paying by bank transfer: the order is placed, held for BANK_TRANSFER_DAYS while the shopper
transfers the amount with the order number as the reference, and staff record the transfer
when it arrives — through `service.confirm_paid`, so the order is paid exactly once.

An attempt by bank transfer is a `payment` row like a card attempt (gateway `bank_transfer`,
state `pending` until staff record the money, then `captured`). Starting one needs no provider,
so it runs in the caller's transaction: placing the order, the hold and the confirmation mail
with the instructions commit together or not at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.accounts import audit
from app.accounts.models import UserAccount
from app.accounts.permissions import require_permission
from app.db import SessionMaker, transaction
from app.orders import service as orders
from app.orders.models import Order
from app.payments import records
from app.payments.errors import PaymentError
from app.payments.gateways import create_bank_transfer
from app.payments.gateways.bank_transfer import TransferInstructions
from app.payments.gateways.base import (
    CaptureMode,
    CheckoutRequest,
    Gateway,
    PaymentStatus,
    ProviderState,
)
from app.payments.models import Payment
from app.payments.service import (
    BANK_TRANSFER,
    NOT_HELD,
    close_attempt,
    confirm_paid,
    payable_order,
    wait_for_open_attempts,
)
from app.settings import Settings

log = logging.getLogger("edgecart.payments")
PAID, ALREADY_PAID, REFUND_DUE = "paid", "already_paid", "refund_due"
OUTCOMES = {
    PAID: "The transfer is recorded: the order is paid and the customer is told.",
    ALREADY_PAID: "This order was paid already: nothing was changed.",
    REFUND_DUE: "The order was no longer waiting for this payment (cancelled, or paid another "
    "way): the transfer is recorded and must be sent back.",
}


@dataclass(frozen=True)
class AwaitingTransfer:
    """An order waiting for its bank transfer, as the staff list shows it."""

    number: str
    email: str
    amount_minor: int
    currency: str
    pay_by: datetime | None


@dataclass(frozen=True)
class TransferCase:
    """One order as the staff "Transfer received" page shows it."""

    order: Order
    attempt: Payment | None  # its latest bank transfer attempt
    instructions: TransferInstructions | None
    can_record: bool  # waiting for payment, with a transfer expected


async def start_bank_transfer(
    session: AsyncSession, settings: Settings, order: Order, now: datetime
) -> TransferInstructions:
    """In the caller's transaction: hold the order's stock for BANK_TRANSFER_DAYS (the same
    extension the card flow uses for its payment window) and open a transfer attempt. A
    second call for the same order gives the same instructions back."""
    assert order.id is not None
    gateway = create_bank_transfer(settings)
    pending = await _latest_transfer(session, order.id)
    if pending is not None and pending.state == records.PENDING:
        return _instructions(settings, order, pending)
    until = now + timedelta(days=settings.bank_transfer_days)
    placed_with_the_hold = order.reserved_until is not None and order.reserved_until >= until
    if not placed_with_the_hold and not await orders.extend_reservation(session, order, until, now):
        raise PaymentError("hold_expired", NOT_HELD)
    payment = await records.create_attempt(session, order, BANK_TRANSFER, CaptureMode.AUTOMATIC)
    assert payment.id is not None
    key = f"edgecart-payment-{payment.id}-start"
    started = await gateway.start_checkout(
        CheckoutRequest(
            payment_id=payment.id, order_number=order.number, amount_minor=payment.amount_minor,
            currency=payment.currency, email=order.email, description=f"Order {order.number}",
            return_url="", cancel_url="", expires_at=int(until.timestamp()),
            capture_mode=CaptureMode.AUTOMATIC, idempotency_key=key,
        )
    )  # fmt: skip
    await records.set_started(session, payment, started.reference, started.redirect_url, key)
    return _instructions(settings, order, payment)


async def switch_to_bank_transfer(
    sessionmaker: SessionMaker, card_gateway: Gateway, settings: Settings, order_number: str,
    now: datetime,
) -> TransferInstructions | None:  # fmt: skip
    """The order page's "Pay by bank transfer instead" (card failed, or its provider is
    down). Card pages still open are closed first, as before a new card attempt; None if
    closing one shows it was paid after all. If the card provider cannot be reached to close
    one, the switch goes ahead: that page expires with its window, and should it take money
    anyway, `confirm_paid` flags the second payment for a refund."""
    for payment in await wait_for_open_attempts(sessionmaker, settings, order_number, now):
        try:
            if await close_attempt(sessionmaker, card_gateway, settings, payment):
                return None
        except PaymentError as error:
            if error.code != "provider_unavailable":
                raise
            log.warning("payment %s: card page left open (provider down) on switching to "
                        "bank transfer", payment.id)  # fmt: skip
    async with transaction(sessionmaker) as session:
        order = await payable_order(session, order_number)
        return await start_bank_transfer(session, settings, order, now)


async def transfer_for_order(
    session: AsyncSession, settings: Settings, order: Order
) -> TransferInstructions | None:
    """The instructions to show on an unpaid order's page, if the shopper chose to transfer."""
    assert order.id is not None
    if order.status != orders.PENDING_PAYMENT:
        return None
    attempt = await _latest_transfer(session, order.id)
    if attempt is None or attempt.state != records.PENDING:
        return None
    return _instructions(settings, order, attempt)


# --- staff ------------------------------------------------------------------------------------


async def list_awaiting_transfer(
    session: AsyncSession, viewer: UserAccount, limit: int = 100
) -> list[AwaitingTransfer]:
    """Orders waiting for a bank transfer, oldest first."""
    require_permission(viewer, "orders.view")
    rows = await session.execute(
        select(Payment)
        .where(col(Payment.gateway) == BANK_TRANSFER, col(Payment.state) == records.PENDING)
        .order_by(col(Payment.id))
        .limit(limit)
    )
    waiting = []
    for payment in rows.scalars():
        order = await orders.get_order(session, payment.order_number)
        if order is not None and order.status == orders.PENDING_PAYMENT:
            waiting.append(AwaitingTransfer(order.number, order.email, payment.amount_minor,
                                            payment.currency, order.reserved_until))  # fmt: skip
    return waiting


async def transfer_case(
    session: AsyncSession, settings: Settings, viewer: UserAccount, order_number: str
) -> TransferCase | None:
    """An order and its bank transfer for the staff page; None if there is no such order."""
    require_permission(viewer, "orders.view")
    order = await orders.get_order(session, order_number)
    if order is None or order.id is None:
        return None
    attempt = await _latest_transfer(session, order.id)
    unpaid = order.status == orders.PENDING_PAYMENT
    instructions = _instructions(settings, order, attempt) if attempt else None
    return TransferCase(order, attempt, instructions, unpaid and attempt is not None)


async def record_transfer(
    session: AsyncSession, settings: Settings, actor: UserAccount, order_number: str
) -> str:
    """Staff say the order's transfer has arrived (in full). The attempt becomes `captured` and
    the order is paid through `confirm_paid`: the first of any number of such calls (two staff
    members, a double click) pays it and queues the payment-received mail; the others change
    nothing. Returns PAID, ALREADY_PAID or REFUND_DUE (the order was cancelled meanwhile, or
    paid another way: the money must go back)."""
    require_permission(actor, "payments.record")
    order = await orders.get_order(session, order_number)
    attempt = await _latest_transfer(session, order.id) if order and order.id else None
    if order is None or attempt is None or attempt.id is None:
        raise PaymentError("no_transfer", "This order was not placed for payment by transfer.")
    locked = await records.get_payment(session, attempt.id, lock=True)
    assert locked is not None
    received = PaymentStatus(
        reference=locked.provider_reference or order.number, state=ProviderState.CAPTURED,
        amount_minor=locked.amount_minor, currency=locked.currency, payment_id=locked.id,
        captured_minor=locked.amount_minor,
    )  # fmt: skip
    await records.apply_status(session, locked, received, "staff")
    if await confirm_paid(session, settings, locked, "staff"):
        await audit.record_staff_action(
            session, actor, "payments.record_transfer", order.number,
            {"status": orders.PENDING_PAYMENT},
            {"status": orders.PAID, "amount_minor": locked.amount_minor},
        )  # fmt: skip
        return PAID
    return REFUND_DUE if locked.failure_code in {"order_cancelled", "duplicate_payment"} else (
        ALREADY_PAID
    )  # fmt: skip


# --- helpers ----------------------------------------------------------------------------------


async def _latest_transfer(session: AsyncSession, order_id: int) -> Payment | None:
    rows = await session.execute(
        select(Payment)
        .where(col(Payment.order_id) == order_id, col(Payment.gateway) == BANK_TRANSFER)
        .order_by(col(Payment.id).desc())
        .limit(1)
    )
    return rows.scalars().first()


def _instructions(settings: Settings, order: Order, payment: Payment) -> TransferInstructions:
    gateway = create_bank_transfer(settings)
    return gateway.instructions(
        order.number, payment.amount_minor, payment.currency, order.reserved_until
    )
