"""Reconciliation: the provider is asked about attempts that stayed unsettled, so an order
never waits for a webhook that was lost, and stock is never released under a payment.

The rule (docs/payments.md, "The stock rule"): an unpaid order's stock goes back on sale only
when its hold has run out AND none of its attempts may still take money. The expiry jobs skip
orders with such an attempt (`service.orders_awaiting_provider`); this job settles them:

- money taken or held at the provider → `settle` (capture in manual mode, then `confirm_paid`:
  paid exactly once, even racing a webhook or the shopper's return);
- still unpaid once the window and the grace have passed (or the order is no longer waiting
  for payment) → close the hosted page at the provider (expire), settle what that shows (a
  payment made at the last second still pays), and cancel the order if its hold has run out;
- the provider cannot be reached → nothing changes; the next run (every minute) tries again.

Then money that paid no order is refunded (`refunds.refund_flagged`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from app.db import SessionMaker, transaction
from app.orders import service as orders
from app.payments import records, refunds
from app.payments.gateways.base import Gateway, GatewayError, PaymentStatus, ProviderState
from app.payments.models import Payment
from app.payments.service import STALE_START_SECONDS, operation_key, settle
from app.settings import Settings

log = logging.getLogger("edgecart.payments")
ACTOR = "payment reconciliation"


@dataclass
class Reconciled:
    """What one run did (the job's result, for the logs and the tests)."""

    checked: int = 0  # attempts looked up at the provider
    paid: int = 0  # orders this run found paid
    closed: int = 0  # hosted pages closed without a payment
    cancelled: int = 0  # orders cancelled, their stock released
    skipped: int = 0  # the provider could not be reached: tried again next run
    refunded: int = 0  # payments of no order refunded automatically


async def reconcile_payments(
    sessionmaker: SessionMaker, gateway: Gateway, settings: Settings, now: datetime,
    limit: int = 100,
) -> Reconciled:  # fmt: skip
    done = Reconciled()
    after = timedelta(minutes=settings.payment_reconcile_after_minutes)
    async with transaction(sessionmaker) as session:
        due = await records.list_due_attempts(session, gateway.name, now - after, limit)
    for payment in due:
        await _reconcile(sessionmaker, gateway, settings, payment, now, done)
    done.refunded = await refunds.refund_flagged(sessionmaker, gateway, settings)
    await refunds.finish_pending_refunds(sessionmaker, gateway, settings, now - after)
    return done


async def _reconcile(
    sessionmaker: SessionMaker, gateway: Gateway, settings: Settings, payment: Payment,
    now: datetime, done: Reconciled,
) -> None:  # fmt: skip
    assert payment.id is not None
    if payment.provider_reference is None:
        await _give_up_start(sessionmaker, payment, now)
        return
    done.checked += 1
    async with transaction(sessionmaker) as session:
        order = await orders.lock_order(session, payment.order_id)
    assert order is not None
    window = timedelta(minutes=settings.payment_window_minutes + settings.payment_grace_minutes)
    closing = order.status != orders.PENDING_PAYMENT or (
        payment.created_at is not None and now >= payment.created_at + window
    )
    try:
        status = await gateway.lookup(payment.provider_reference)
        if closing and status.state in {ProviderState.PENDING, ProviderState.FAILED}:
            key = operation_key(payment, "expire")
            status = await gateway.expire_checkout(payment.provider_reference, key)
        if status.state is ProviderState.AUTHORIZED and order.status == orders.CANCELLED:
            status = await _void(gateway, payment, status)
    except GatewayError as error:
        log.warning("reconciliation: payment %s not settled, provider said %s: next run",
                    payment.id, error.code)  # fmt: skip
        done.skipped += 1
        return
    await settle(sessionmaker, gateway, settings, payment.id, status, "job")
    async with transaction(sessionmaker) as session:
        settled = await records.get_payment(session, payment.id)  # a capture may follow settle
    outcome = settled.state if settled is not None else ""
    if outcome == records.CAPTURED and order.status == orders.PENDING_PAYMENT:
        done.paid += 1
    elif outcome in {records.EXPIRED, records.CANCELED}:
        done.closed += 1
        if await _cancel_if_over(sessionmaker, payment, now):
            done.cancelled += 1


async def _void(gateway: Gateway, payment: Payment, status: PaymentStatus) -> PaymentStatus:
    """An authorization for an order cancelled meanwhile: release it instead of capturing."""
    assert status.provider_payment_id is not None
    await gateway.void(status.provider_payment_id, operation_key(payment, "void"))
    return replace(status, state=ProviderState.CANCELED)


async def _give_up_start(sessionmaker: SessionMaker, payment: Payment, now: datetime) -> None:
    """An attempt whose start never got the provider's answer stored (a crash): the shopper
    never got its page, so it cannot have been paid."""
    assert payment.id is not None
    async with transaction(sessionmaker) as session:
        locked = await records.get_payment(session, payment.id, lock=True)
        if (
            locked is not None
            and locked.state == records.CREATED
            and (records.is_stale_start(locked, now, STALE_START_SECONDS))
        ):
            await records.set_failed(session, locked, "start_interrupted", "no answer stored")


async def _cancel_if_over(sessionmaker: SessionMaker, payment: Payment, now: datetime) -> bool:
    """Cancel the order (releasing its stock) if it is unpaid, its hold has run out and no
    attempt of it may still take money. Under the order's lock, as `confirm_paid` and
    `start_payment` take it, so none of them can slip in between."""
    async with transaction(sessionmaker) as session:
        order = await orders.lock_order(session, payment.order_id)
        if order is None or order.id is None or order.status != orders.PENDING_PAYMENT:
            return False
        if order.reserved_until > now:
            return False  # still held: the shopper may pay again; the expiry job cancels later
        attempts = await records.list_attempts(session, order.id)
        if any(records.may_take_money(attempt) for attempt in attempts):
            return False
        await orders.cancel_order(
            session, order, ACTOR, "the payment window closed without a payment"
        )
    return True
