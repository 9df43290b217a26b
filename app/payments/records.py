"""The payment records: attempts, provider transactions, processed webhook events.

Functions here take the caller's session and never commit. A provider's report moves an attempt
forward only (`FORWARD`), so reports arriving late or out of order (a "failed" webhook after the
capture) change nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.orders.models import Order
from app.payments.errors import message_for
from app.payments.gateways.bank_transfer import NAME as BANK_TRANSFER_GATEWAY
from app.payments.gateways.base import PaymentStatus, ProviderState
from app.payments.models import Payment, PaymentTransaction, PaymentWebhookEvent

CREATED, PENDING, FAILED, AUTHORIZED = "created", "pending", "failed", "authorized"
CAPTURED, CANCELED, EXPIRED = "captured", "canceled", "expired"
UNSETTLED = frozenset({CREATED, PENDING, FAILED, AUTHORIZED})
# What a provider's report may move an attempt to, from each state. Money reported taken wins
# over everything before it; nothing moves an attempt back.
FORWARD: Mapping[str, frozenset[str]] = {
    CREATED: frozenset({PENDING, FAILED, EXPIRED, AUTHORIZED, CAPTURED, CANCELED}),
    PENDING: frozenset({FAILED, EXPIRED, AUTHORIZED, CAPTURED, CANCELED}),
    FAILED: frozenset({FAILED, EXPIRED, AUTHORIZED, CAPTURED, CANCELED}),
    EXPIRED: frozenset({AUTHORIZED, CAPTURED}),
    AUTHORIZED: frozenset({CAPTURED, CANCELED}),
    CAPTURED: frozenset(),
    CANCELED: frozenset(),
    "partially_refunded": frozenset(),
    "refunded": frozenset(),
}
_OUR_STATE = {
    ProviderState.PENDING: PENDING,
    ProviderState.FAILED: FAILED,
    ProviderState.AUTHORIZED: AUTHORIZED,
    ProviderState.CAPTURED: CAPTURED,
    ProviderState.CANCELED: CANCELED,
    ProviderState.EXPIRED: EXPIRED,
}
_TRANSACTION_KIND = {
    FAILED: "fail", AUTHORIZED: "authorize", CAPTURED: "capture", CANCELED: "void",
    EXPIRED: "expire",
}  # fmt: skip


async def create_attempt(
    session: AsyncSession, order: Order, gateway: str, capture_mode: str
) -> Payment:
    assert order.id is not None
    inserted = await session.scalars(
        insert(Payment)
        .values(
            order_id=order.id, order_number=order.number, gateway=gateway,
            capture_mode=capture_mode, state=CREATED, amount_minor=order.total_minor,
            currency=order.currency,
        )
        .returning(Payment)
    )  # fmt: skip
    return inserted.one()


async def get_payment(
    session: AsyncSession, payment_id: int, *, lock: bool = False
) -> Payment | None:
    query = select(Payment).where(col(Payment.id) == payment_id)
    if lock:
        query = query.with_for_update()
    found = await session.execute(query.execution_options(populate_existing=True))
    return found.scalar_one_or_none()


async def list_attempts(session: AsyncSession, order_id: int) -> list[Payment]:
    """The order's payment attempts, oldest first."""
    rows = await session.execute(
        select(Payment).where(col(Payment.order_id) == order_id).order_by(col(Payment.id))
    )
    return list(rows.scalars())


async def list_transactions(session: AsyncSession, payment_id: int) -> list[PaymentTransaction]:
    rows = await session.execute(
        select(PaymentTransaction)
        .where(col(PaymentTransaction.payment_id) == payment_id)
        .order_by(col(PaymentTransaction.id))
    )
    return list(rows.scalars())


async def record_transaction(
    session: AsyncSession, payment: Payment, kind: str, state: str, *, amount_minor: int,
    source: str, provider_id: str | None = None, idempotency_key: str | None = None,
    detail: str = "",
) -> None:  # fmt: skip
    assert payment.id is not None
    await session.execute(
        insert(PaymentTransaction)
        .values(
            payment_id=payment.id, kind=kind, state=state, amount_minor=amount_minor,
            currency=payment.currency, provider_id=provider_id, idempotency_key=idempotency_key,
            source=source, detail=detail[:500],
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )  # fmt: skip


async def set_started(
    session: AsyncSession, payment: Payment, reference: str, redirect_url: str, key: str
) -> None:
    """The hosted page is open: the shopper is on their way to it."""
    await _update(
        session, payment, state=PENDING, provider_reference=reference, redirect_url=redirect_url
    )
    await record_transaction(
        session, payment, "start", "succeeded", amount_minor=payment.amount_minor, source="shop",
        provider_id=reference, idempotency_key=key,
    )  # fmt: skip


async def set_failed(session: AsyncSession, payment: Payment, code: str, detail: str) -> None:
    """The attempt failed on our side of the provider (unreachable, interrupted)."""
    await _update(
        session, payment, state=FAILED, failure_code=code, failure_message=message_for(code)
    )
    await record_transaction(
        session, payment, "fail", "failed", amount_minor=0, source="shop", detail=detail
    )


async def apply_status(
    session: AsyncSession, payment: Payment, status: PaymentStatus, source: str
) -> bool:
    """Move the (locked) attempt to what the provider reports, if that is forward; True if it
    changed. A failure keeps its reason in plain words for the order page."""
    new = _OUR_STATE[status.state]
    if new not in FORWARD[payment.state] or (
        new == FAILED and payment.state == FAILED and payment.failure_code == status.failure_code
        and payment.failure_message == message_for(status.failure_code, status.decline_code)
    ):  # fmt: skip
        return False
    values: dict[str, object] = {"state": new}
    if status.provider_payment_id:
        values["provider_payment_id"] = status.provider_payment_id
    if new == CAPTURED:
        values["captured_minor"] = min(status.captured_minor or payment.amount_minor,
                                       payment.amount_minor)  # fmt: skip
    if new in {FAILED, EXPIRED, CANCELED}:
        code = status.decline_code or status.failure_code or new
        values |= {"failure_code": code[:60],
                   "failure_message": message_for(status.failure_code, status.decline_code)
                   if new == FAILED else message_for(new)}  # fmt: skip
    else:
        values |= {"failure_code": None, "failure_message": None}
    await _update(session, payment, **values)
    await record_transaction(
        session, payment, _TRANSACTION_KIND[new],
        "failed" if new == FAILED else "succeeded",
        amount_minor=payment.captured_minor if new == CAPTURED else (
            payment.amount_minor if new == AUTHORIZED else 0),
        source=source, provider_id=status.provider_payment_id or status.reference or None,
        detail=status.failure_message or "",
    )  # fmt: skip
    return True


async def flag(session: AsyncSession, payment: Payment, code: str, detail: str) -> None:
    """Mark a captured attempt that did not pay its order (cancelled meanwhile, paid twice):
    money to give back. The refund work (issue 7, part two) looks for these codes."""
    await _update(session, payment, failure_code=code, failure_message=detail[:500])


async def remember_event(
    session: AsyncSession, gateway: str, event_id: str, event_type: str, payment_id: int | None
) -> bool:
    """Record a webhook event as processed; False when it was processed already."""
    inserted = await session.execute(
        insert(PaymentWebhookEvent)
        .values(
            gateway=gateway,
            event_id=event_id[:255],
            event_type=event_type[:100],
            payment_id=payment_id,
        )
        .on_conflict_do_nothing(index_elements=["gateway", "event_id"])
        .returning(col(PaymentWebhookEvent.event_id))
    )
    return inserted.scalar_one_or_none() is not None


async def _update(session: AsyncSession, payment: Payment, **values: object) -> None:
    """Change the row and the object in one round trip (RETURNING refreshes it)."""
    await session.execute(
        update(Payment)
        .where(col(Payment.id) == payment.id)
        .values(**values, updated_at=func.now())
        .returning(Payment)
        .execution_options(populate_existing=True)
    )


async def orders_awaiting_provider(session: AsyncSession) -> list[str]:
    """Numbers of orders with an attempt that may still take (or has taken) money without us
    knowing: being started, or a hosted page not known to be closed. A bank transfer is not
    one: no provider takes money for it, so its order expires with its hold (a transfer that
    comes later is recorded by staff and flagged to send back)."""
    rows = await session.execute(
        select(Payment.order_number)
        .where(
            col(Payment.gateway) != BANK_TRANSFER_GATEWAY,
            (col(Payment.state) == CREATED)
            | (col(Payment.state).in_([PENDING, FAILED, AUTHORIZED])
               & col(Payment.provider_reference).is_not(None)),
        )
        .distinct()
    )  # fmt: skip
    return list(rows.scalars())


async def list_due_attempts(
    session: AsyncSession, gateway: str, older_than: datetime, limit: int
) -> list[Payment]:
    """Unsettled attempts at `gateway` started before `older_than`, oldest first."""
    rows = await session.execute(
        select(Payment)
        .where(
            col(Payment.gateway) == gateway,
            col(Payment.state).in_(sorted(UNSETTLED)),
            (col(Payment.state) == CREATED) | col(Payment.provider_reference).is_not(None),
            col(Payment.created_at) < older_than,
        )
        .order_by(col(Payment.id))
        .limit(limit)
    )
    return list(rows.scalars())


async def list_flagged(session: AsyncSession, gateway: str, codes: list[str]) -> list[Payment]:
    """Captured attempts that paid no order (flagged by `flag`): money to give back."""
    rows = await session.execute(
        select(Payment)
        .where(
            col(Payment.gateway) == gateway,
            col(Payment.state) == CAPTURED,
            col(Payment.failure_code).in_(codes),
        )
        .order_by(col(Payment.id))
    )
    return list(rows.scalars())


async def set_state(session: AsyncSession, payment: Payment, **values: object) -> None:
    """Change an attempt's columns directly (refunds), under the caller's lock."""
    await _update(session, payment, **values)


def may_take_money(payment: Payment) -> bool:
    """Being started, or a hosted page not known to be closed (see orders_awaiting_provider)."""
    return payment.state == CREATED or (
        payment.state in UNSETTLED and payment.provider_reference is not None
    )


def is_stale_start(payment: Payment, now: datetime, seconds: int) -> bool:
    """A `created` attempt older than this lost its request (a crash before the provider
    answered): it no longer blocks a new one."""
    return payment.created_at is not None and (now - payment.created_at).total_seconds() > seconds
