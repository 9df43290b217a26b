"""Refunds of card payments, full or partial: by staff with `payments.refund`, and automatic for
money that paid no order (flagged by `confirm_paid`, refunded by the reconciliation job).

Each refund is a `payment_transaction` row (kind `refund`) whose unique idempotency key is also
the key sent to the provider: written `pending` before the provider is called, `succeeded` or
`failed` after. The same key twice finds the row: one refund at the provider, one record. A
provider that cannot be reached leaves the row pending; the same form sent again (or the
reconciliation job) finishes it with the same key and amount. Like `service.py`, these take the
session factory: no transaction stays open while the provider answers.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.accounts.audit import record_staff_action
from app.accounts.models import UserAccount
from app.accounts.permissions import require_permission
from app.db import SessionMaker, transaction
from app.money import ZERO_DECIMAL, format_money
from app.notifications.service import queue_email
from app.orders import service as orders
from app.orders.models import Order
from app.payments import records
from app.payments.gateways.base import Gateway, GatewayRefused, GatewayUnavailable
from app.payments.models import Payment, PaymentTransaction
from app.payments.service import operation_key
from app.settings import Settings

log = logging.getLogger("edgecart.payments")

PARTIALLY_REFUNDED, REFUNDED = "partially_refunded", "refunded"
FLAGS = {
    "order_cancelled": "The order was cancelled before your payment reached us.",
    "duplicate_payment": "The order had been paid already by another payment.",
}
_FORM_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
_REFUNDABLE_ORDERS = frozenset(
    status for status, nexts in orders.TRANSITIONS.items() if "refunded" in nexts
)


class RefundError(ValueError):
    """A refund the shop will not make; `field` is the form field the message belongs to."""

    def __init__(self, code: str, message: str, field: str = "form") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class RefundSummary:
    """What the refund page shows about an order's card payment."""

    order: Order
    payment: Payment | None  # the attempt that paid the order; None: nothing to refund
    refunded_minor: int
    left_minor: int
    refunds: list[PaymentTransaction]


@dataclass(frozen=True)
class RefundDone:
    amount_minor: int
    replayed: bool  # the key had been used: nothing new happened


def parse_amount(text: str, currency: str) -> int:
    """A staff-typed amount ("12.50", "12,5", "7") in minor units; RefundError if not one."""
    value = text.strip().replace(",", ".")
    if value.startswith("-"):
        raise RefundError("amount_not_positive", "Enter an amount above zero.", "amount")
    pattern = r"\d{1,12}" if currency in ZERO_DECIMAL else r"\d{1,10}(\.\d{1,2})?"
    if not re.fullmatch(pattern, value):
        example = "1250" if currency in ZERO_DECIMAL else "12.50"
        raise RefundError("amount_invalid", f"Enter an amount such as {example}.", "amount")
    if currency in ZERO_DECIMAL:
        return int(value)
    whole, _, cents = value.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


async def refund_summary(session: AsyncSession, number: str) -> RefundSummary | None:
    order = await orders.get_order(session, number)
    if order is None or order.id is None:
        return None
    payment = _paying_attempt(order, await records.list_attempts(session, order.id))
    if payment is None or payment.id is None:
        return RefundSummary(order, None, 0, 0, [])
    refunds = [
        t for t in await records.list_transactions(session, payment.id) if t.kind == "refund"
    ]
    done = sum(t.amount_minor for t in refunds if t.state == "succeeded")
    pending = sum(t.amount_minor for t in refunds if t.state == "pending")
    return RefundSummary(order, payment, done, payment.captured_minor - done - pending, refunds)


def _paying_attempt(order: Order, attempts: list[Payment]) -> Payment | None:
    """The attempt whose money paid the order (not one flagged as paying nothing)."""
    for payment in attempts:
        if payment.state in {records.CAPTURED, PARTIALLY_REFUNDED, REFUNDED} and (
            payment.failure_code not in FLAGS
        ):
            return payment
    return None


async def refund_order(
    sessionmaker: SessionMaker, gateway: Gateway, settings: Settings, actor: UserAccount,
    number: str, amount_minor: int, form_key: str, reason: str = "",
) -> RefundDone:  # fmt: skip
    """Refund `amount_minor` of the order's card payment, once per `form_key`. Raises
    PermissionDenied without `payments.refund`, RefundError for anything else refused."""
    require_permission(actor, "payments.refund")
    if not _FORM_KEY.fullmatch(form_key):
        raise RefundError("bad_key", "This form has expired: reload the page and try again.")
    async with transaction(sessionmaker) as session:
        summary = await refund_summary(session, number)
        if summary is None:
            raise RefundError("not_found", "There is no such order.")
        payment = summary.payment
        if payment is None or summary.order.status not in _REFUNDABLE_ORDERS:
            raise RefundError("not_refundable", "This order has no card payment to refund.")
        if payment.gateway != gateway.name:
            raise RefundError("other_gateway", "Payments of this kind are refunded by hand, "
                              "outside the shop.")  # fmt: skip
        assert payment.id is not None
        payment = await records.get_payment(session, payment.id, lock=True)
        assert payment is not None
        key = operation_key(payment, f"refund-{form_key}")
        existing = await _transaction(session, key)
        if existing is not None:
            if existing.state == "succeeded":
                return RefundDone(existing.amount_minor, replayed=True)
            if existing.state == "failed":
                raise RefundError("refused", f"The payment provider refused this refund: "
                                  f"{existing.detail}")  # fmt: skip
            amount_minor = existing.amount_minor  # pending: finish it with the same amount
        else:
            left = (await refund_summary(session, number) or summary).left_minor
            _check_amount(amount_minor, left, payment.currency)
            await records.record_transaction(
                session, payment, "refund", "pending", amount_minor=amount_minor,
                source="staff", idempotency_key=key,
                detail=f"by {actor.email}" + (f": {reason}" if reason else ""),
            )  # fmt: skip
    return await _complete(
        sessionmaker, gateway, settings, payment, key, amount_minor, actor=actor,
        actor_label=f"staff:{actor.email}", note="",
    )  # fmt: skip


def _check_amount(amount_minor: int, left_minor: int, currency: str) -> None:
    if amount_minor <= 0:
        raise RefundError("amount_not_positive", "Enter an amount above zero.", "amount")
    if amount_minor > left_minor:
        raise RefundError(
            "amount_too_large",
            f"That is more than is left to refund: at most {format_money(left_minor, currency)}.",
            "amount",
        )


async def _transaction(session: AsyncSession, key: str) -> PaymentTransaction | None:
    found = await session.execute(
        select(PaymentTransaction)
        .where(col(PaymentTransaction.idempotency_key) == key)
        .execution_options(populate_existing=True)
    )
    return found.scalar_one_or_none()


async def _complete(
    sessionmaker: SessionMaker, gateway: Gateway, settings: Settings, payment: Payment,
    key: str, amount_minor: int, *, actor: UserAccount | None, actor_label: str, note: str,
) -> RefundDone:  # fmt: skip
    """Call the provider for a pending refund row and record its answer, moving the attempt
    and (for the order's own payment) the order to partially_refunded / refunded."""
    assert payment.id is not None
    assert payment.provider_payment_id is not None
    try:
        done = await gateway.refund(payment.provider_payment_id, amount_minor, key)
    except GatewayUnavailable as error:
        log.warning("payment %s: refund %s not confirmed: %s", payment.id, key, error)
        raise RefundError("provider_unavailable", "We could not reach the payment provider, "
                          "so we do not know yet whether the refund was made. Send the form "
                          "again: it will not refund twice.") from None  # fmt: skip
    except GatewayRefused as error:
        async with transaction(sessionmaker) as session:
            await _finish(session, key, "failed", None, error.message)
        raise RefundError("refused", f"The payment provider refused this refund: "
                          f"{error.message}") from None  # fmt: skip
    async with transaction(sessionmaker) as session:
        locked = await records.get_payment(session, payment.id, lock=True)
        assert locked is not None
        if not await _finish(session, key, "succeeded", done.provider_id, ""):
            return RefundDone(amount_minor, replayed=True)  # a racing twin recorded it
        refunds = await records.list_transactions(session, payment.id)
        before = locked.refunded_minor
        total = sum(
            t.amount_minor for t in refunds if t.kind == "refund" and t.state == "succeeded"
        )
        state = REFUNDED if total >= locked.captured_minor else PARTIALLY_REFUNDED
        await records.set_state(session, locked, state=state, refunded_minor=total)
        order = await orders.lock_order(session, locked.order_id)
        assert order is not None
        if locked.failure_code not in FLAGS and order.status in _REFUNDABLE_ORDERS:
            money = format_money(amount_minor, locked.currency)
            await orders.transition(session, order, state, actor_label, f"refund of {money}")
        if actor is not None:
            await record_staff_action(
                session, actor, "payments.refund", order.number,
                {"refunded_minor": before}, {"refunded_minor": total},
            )  # fmt: skip
        await _queue_refund_mail(session, settings, order, locked, amount_minor, key, note)
    return RefundDone(amount_minor, replayed=False)


async def _finish(
    session: AsyncSession, key: str, state: str, provider_id: str | None, detail: str
) -> bool:
    """Pending → succeeded/failed, once: False if another run finished it first."""
    values: dict[str, object] = {"state": state, "at": func.now()}
    if provider_id:
        values["provider_id"] = provider_id
    if detail:
        values["detail"] = detail[:500]
    changed = await session.execute(
        update(PaymentTransaction)
        .where(
            col(PaymentTransaction.idempotency_key) == key,
            col(PaymentTransaction.state) == "pending",
        )
        .values(**values)
        .returning(col(PaymentTransaction.id))
    )
    return changed.scalar_one_or_none() is not None


async def _queue_refund_mail(
    session: AsyncSession, settings: Settings, order: Order, payment: Payment,
    amount_minor: int, key: str, note: str,
) -> None:  # fmt: skip
    token = orders.guest_token(str(settings.secret_key), order.number)
    context = {
        "number": order.number,
        "amount": format_money(amount_minor, payment.currency),
        "note": note,
        "order_url": f"{settings.site_url}/orders/{order.number}?key={token}",
    }
    await queue_email(session, order.email, "refund_issued", context, key=f"refund:{key}")


# --- for the reconciliation job -----------------------------------------------------------


async def refund_flagged(sessionmaker: SessionMaker, gateway: Gateway, settings: Settings) -> int:
    """Give back money that paid no order (the order was cancelled, or paid by another
    attempt), in full, with one key per attempt; how many were refunded now. A provider that
    cannot be reached leaves them for the next run."""
    async with transaction(sessionmaker) as session:
        flagged = await records.list_flagged(session, gateway.name, sorted(FLAGS))
    refunded = 0
    for found in flagged:
        assert found.id is not None
        key = operation_key(found, "refund-unpaid-order")
        async with transaction(sessionmaker) as session:
            payment = await records.get_payment(session, found.id, lock=True)
            if payment is None or payment.state != records.CAPTURED:
                continue
            existing = await _transaction(session, key)
            amount = existing.amount_minor if existing else payment.captured_minor
            if existing is None:
                await records.record_transaction(
                    session, payment, "refund", "pending", amount_minor=amount, source="job",
                    idempotency_key=key, detail=f"automatic: {payment.failure_code}",
                )  # fmt: skip
            elif existing.state != "pending":
                continue
        log.warning("payment %s paid no order (%s): refunding %s automatically",
                    payment.id, payment.failure_code, amount)  # fmt: skip
        try:
            await _complete(
                sessionmaker, gateway, settings, payment, key, amount, actor=None,
                actor_label="payment reconciliation", note=FLAGS[payment.failure_code or ""],
            )  # fmt: skip
        except RefundError as error:
            log.warning("payment %s: automatic refund not made yet: %s", payment.id, error)
            continue
        refunded += 1
    return refunded


async def finish_pending_refunds(
    sessionmaker: SessionMaker, gateway: Gateway, settings: Settings, older_than: datetime
) -> int:
    """Staff refunds left pending by an unreachable provider (the form was not sent again):
    finish them with their own key and amount."""
    async with transaction(sessionmaker) as session:
        rows = await session.execute(
            select(PaymentTransaction).where(
                col(PaymentTransaction.kind) == "refund",
                col(PaymentTransaction.state) == "pending",
                col(PaymentTransaction.source) == "staff",
                col(PaymentTransaction.at) < older_than,
            )
        )
        pending = list(rows.scalars())
    finished = 0
    for row in pending:
        async with transaction(sessionmaker) as session:
            payment = await records.get_payment(session, row.payment_id)
        if payment is None or row.idempotency_key is None:
            continue
        try:
            await _complete(
                sessionmaker, gateway, settings, payment, row.idempotency_key, row.amount_minor,
                actor=None, actor_label="payment reconciliation", note="",
            )  # fmt: skip
        except RefundError as error:
            log.warning("refund %s still not finished: %s", row.idempotency_key, error)
            continue
        finished += 1
    return finished
