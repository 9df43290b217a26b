"""Order rules: placing an order record, the status machine, guest links, vouchers.

Every status change goes through `transition` (one conditional UPDATE plus a history row), so
the TRANSITIONS table is the whole truth about what may follow what. Never commits.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import String, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.accounts.models import UserAccount
from app.accounts.permissions import has_permission
from app.inventory import service as inventory
from app.orders.models import Order, OrderLine, OrderStatusChange, Voucher
from app.orders.vouchers import VoucherRefused, VoucherTerms, check_terms, normalise_code

PENDING_PAYMENT = "pending_payment"
CANCELLED = "cancelled"
PAID = "paid"
_REFUNDS = frozenset({"partially_refunded", "refunded"})
TRANSITIONS: Mapping[str, frozenset[str]] = {
    PENDING_PAYMENT: frozenset({PAID, CANCELLED}),
    PAID: frozenset({"partially_fulfilled", "fulfilled"}) | _REFUNDS,
    "partially_fulfilled": frozenset({"fulfilled", "shipped"}) | _REFUNDS,
    "fulfilled": frozenset({"shipped"}) | _REFUNDS,
    "shipped": frozenset({"delivered"}) | _REFUNDS,
    "delivered": _REFUNDS,
    "partially_refunded": _REFUNDS,  # a second partial refund, or the rest
    "refunded": frozenset(),
    CANCELLED: frozenset(),
}
STATUS_LABELS: Mapping[str, str] = {
    PENDING_PAYMENT: "Waiting for payment",
    PAID: "Paid",
    "partially_fulfilled": "Partly packed",
    "fulfilled": "Packed",
    "shipped": "Shipped",
    "delivered": "Delivered",
    CANCELLED: "Cancelled",
    "partially_refunded": "Partly refunded",
    "refunded": "Refunded",
}


class OrderError(ValueError):
    """A change the orders service refuses; `code` is stable, `message` safe to show."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class IllegalTransition(OrderError):
    def __init__(self, number: str, from_status: str, to_status: str) -> None:
        super().__init__(
            "illegal_transition", f"Order {number} cannot go from {from_status} to {to_status}."
        )


@dataclass(frozen=True)
class DraftLine:
    variant_id: int
    sku: str
    product_title: str
    variant_title: str
    quantity: int
    unit_price_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    unit_weight_grams: int


@dataclass(frozen=True)
class DraftOrder:
    """Everything an order records, priced by the caller (checkout)."""

    email: str
    account_id: int | None
    currency: str
    subtotal_minor: int
    shipping_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    prices_include_tax: bool
    shipping_address: Mapping[str, str]
    shipping_method: str
    shipping_method_name: str
    voucher_code: str | None
    lines: Sequence[DraftLine]
    request_hash: str | None = None  # of the API request placing it (see app/orders/api.py)


# --- placing ------------------------------------------------------------------------------


async def find_order_by_key(session: AsyncSession, idempotency_key: str) -> Order | None:
    found = await session.execute(
        select(Order).where(col(Order.idempotency_key) == idempotency_key)
    )
    return found.scalar_one_or_none()


async def create_order(
    session: AsyncSession, draft: DraftOrder, idempotency_key: str, reserved_until: datetime,
    actor: str,
) -> tuple[Order, bool]:  # fmt: skip
    """Insert the order, its lines and its first history row; `(order, True)`.

    When an order with this key exists (a replayed submit) nothing is written and that order
    comes back as `(order, False)`. A concurrent submit with the same key waits here on the
    unique index until the first commits, then finds its order.
    """
    if (
        draft.subtotal_minor
        + draft.shipping_minor
        - draft.discount_minor
        + (0 if draft.prices_include_tax else draft.tax_minor)
        != draft.total_minor
    ):
        raise OrderError("inconsistent_totals", "The order totals do not add up.")
    values = {
        name: value for name, value in asdict(draft).items() if name not in {"lines"}
    } | {
        # The number comes from its sequence inside the INSERT: one round trip, not two.
        "number": "EC-" + func.nextval("order_number_seq").cast(String),
        "status": PENDING_PAYMENT, "idempotency_key": idempotency_key,
        "reserved_until": reserved_until, "shipping_address": dict(draft.shipping_address),
    }  # fmt: skip
    inserted = await session.scalars(
        insert(Order)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Order)
    )
    order = inserted.one_or_none()
    if order is None:
        existing = await find_order_by_key(session, idempotency_key)
        assert existing is not None  # the conflicting row is committed and visible now
        return existing, False
    order_id = order.id
    assert order_id is not None  # it came back from the INSERT
    for line in draft.lines:
        session.add(OrderLine(order_id=order_id, **asdict(line)))
    session.add(OrderStatusChange(order_id=order_id, to_status=PENDING_PAYMENT, actor=actor))
    await session.flush()
    return order, True


# --- reading ------------------------------------------------------------------------------


async def get_order(session: AsyncSession, number: str) -> Order | None:
    if not number or len(number) > 20:
        return None
    found = await session.execute(select(Order).where(col(Order.number) == number))
    return found.scalar_one_or_none()


async def list_lines(session: AsyncSession, order_id: int) -> list[OrderLine]:
    rows = await session.execute(
        select(OrderLine).where(col(OrderLine.order_id) == order_id).order_by(col(OrderLine.id))
    )
    return list(rows.scalars())


async def list_history(session: AsyncSession, order_id: int) -> list[OrderStatusChange]:
    rows = await session.execute(
        select(OrderStatusChange)
        .where(col(OrderStatusChange.order_id) == order_id)
        .order_by(col(OrderStatusChange.id))
    )
    return list(rows.scalars())


async def list_account_orders(
    session: AsyncSession, account_id: int, limit: int = 50
) -> list[Order]:
    """The account's orders, newest first (its order history)."""
    rows = await session.execute(
        select(Order)
        .where(col(Order.account_id) == account_id)
        .order_by(col(Order.id).desc())
        .limit(limit)
    )
    return list(rows.scalars())


async def page_orders(
    session: AsyncSession, *, account_id: int | None, key_prefix: str, page: int, limit: int
) -> tuple[list[Order], int]:
    """A page of orders, newest first, and how many there are in all: the account's when
    `account_id` is given, else the guest orders whose idempotency key starts with
    `key_prefix` (how the API marks the orders an app placed for itself)."""
    if account_id is not None:
        mine = col(Order.account_id) == account_id
    else:
        mine = col(Order.account_id).is_(None) & col(Order.idempotency_key).startswith(
            key_prefix, autoescape=True
        )
    total = await session.execute(select(func.count()).select_from(Order).where(mine))
    rows = await session.execute(
        select(Order)
        .where(mine)
        .order_by(col(Order.id).desc())
        .offset((page - 1) * limit)
        .limit(limit)
    )
    return list(rows.scalars()), int(total.scalar_one())


# --- who may see an order -----------------------------------------------------------------


def guest_token(secret: str, number: str) -> str:
    """The token of an order's guest link: HMAC-SHA256(SECRET_KEY, number), nothing stored."""
    return hmac.new(secret.encode(), b"order:" + number.encode(), hashlib.sha256).hexdigest()


def may_view(
    order: Order, *, account: UserAccount | None, guest_numbers: Collection[str], token: str,
    secret: str,
) -> bool:  # fmt: skip
    """Its owner, staff who may view orders, a guest who placed it in this session or holds
    its signed link. Everyone else is told it does not exist."""
    if account is not None and account.id is not None and order.account_id == account.id:
        return True
    if account is not None and has_permission(account, "orders.view"):
        return True
    if order.number in guest_numbers:
        return True
    return bool(token) and hmac.compare_digest(token, guest_token(secret, order.number))


# --- the status machine -------------------------------------------------------------------


async def transition(
    session: AsyncSession, order: Order, to_status: str, actor: str, note: str = ""
) -> Order:
    """Move the order to `to_status` if TRANSITIONS allows it from its current status, and
    record who did it. A concurrent change in between raises OrderError("conflict")."""
    if to_status not in TRANSITIONS:
        raise OrderError("unknown_status", f"There is no order status {to_status!r}.")
    from_status = order.status
    if to_status not in TRANSITIONS[from_status]:
        raise IllegalTransition(order.number, from_status, to_status)
    changed = await session.execute(
        update(Order)
        .where(col(Order.id) == order.id, col(Order.status) == from_status)
        .values(status=to_status)
        .returning(col(Order.id))
    )
    if changed.scalar_one_or_none() is None:
        raise OrderError("conflict", f"Order {order.number} was changed meanwhile: try again.")
    assert order.id is not None
    session.add(
        OrderStatusChange(
            order_id=order.id, from_status=from_status, to_status=to_status, actor=actor,
            note=note[:500],
        )
    )  # fmt: skip
    await session.flush()
    await session.refresh(order)
    return order


async def cancel_order(session: AsyncSession, order: Order, actor: str, note: str = "") -> Order:
    """Cancel an unpaid order; the stock it held goes back on sale and the voucher use it took
    is given back. Both ride on the one conditional status change, so a second cancel (or a
    cancel racing a payment) is refused before it can give anything back twice."""
    await transition(session, order, CANCELLED, actor, note)
    await inventory.release(session, order.number, actor=actor, reason="cancel")
    if order.voucher_code:
        await give_back_voucher_use(session, order.voucher_code)
    return order


async def mark_paid(session: AsyncSession, order: Order, actor: str, note: str = "") -> Order:
    """For the payments issue: the order is paid and its held stock is sold."""
    await transition(session, order, PAID, actor, note)
    await inventory.commit(session, order.number, actor=actor)
    return order


async def lock_order(session: AsyncSession, order_id: int) -> Order | None:
    """The order, read afresh and locked until the transaction ends: whoever settles a payment
    holds this lock, so two of them racing (redirect, webhook, a job) go one after the other."""
    found = await session.execute(
        select(Order)
        .where(col(Order.id) == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return found.scalar_one_or_none()


async def extend_reservation(
    session: AsyncSession, order: Order, until: datetime, now: datetime
) -> bool:
    """Hold an unpaid order (and its stock) until at least `until`, for a payment in progress.
    False when the order is no longer waiting for payment or its hold has already run out."""
    changed = await session.execute(
        update(Order)
        .where(
            col(Order.id) == order.id,
            col(Order.status) == PENDING_PAYMENT,
            col(Order.reserved_until) > now,
        )
        .values(reserved_until=func.greatest(Order.reserved_until, until))
        .returning(col(Order.id))
    )
    if changed.scalar_one_or_none() is None:
        return False
    held = await inventory.extend(session, order.number, until)
    await session.refresh(order)
    return held > 0


async def cancel_expired_orders(
    session: AsyncSession, now: datetime, limit: int = 100, keep: Collection[str] = ()
) -> list[str]:
    """Cancel unpaid orders whose stock reservation has expired; their numbers. Orders in
    `keep` (a payment the provider has not settled yet) are left to the payments domain."""
    rows = await session.execute(
        select(Order)
        .where(
            col(Order.status) == PENDING_PAYMENT,
            col(Order.reserved_until) < now,
            col(Order.number).not_in(list(keep)),
        )
        .order_by(col(Order.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    cancelled = []
    for order in rows.scalars():
        await cancel_order(session, order, "expiry job", "not paid before the reservation expired")
        cancelled.append(order.number)
    return cancelled


# --- vouchers -----------------------------------------------------------------------------


def _terms(voucher: Voucher) -> VoucherTerms:
    return VoucherTerms(
        code=voucher.code, kind=voucher.kind, amount=voucher.amount, currency=voucher.currency,
        min_spend_minor=voucher.min_spend_minor, usage_limit=voucher.usage_limit,
        used_count=voucher.used_count, expires_at=voucher.expires_at, active=voucher.active,
        starts_at=voucher.starts_at,
    )  # fmt: skip


async def check_voucher(
    session: AsyncSession, code: str, subtotal_minor: int, currency: str, now: datetime
) -> VoucherTerms:
    """The voucher's terms if the code can be used on this subtotal; VoucherRefused if not."""
    wanted = normalise_code(code)
    found = await session.execute(
        select(Voucher).where(col(Voucher.code) == wanted).execution_options(populate_existing=True)
    )
    voucher = found.scalar_one_or_none()
    if voucher is None or not wanted:
        raise VoucherRefused("unknown", "We do not know that code. Check it and try again.")
    terms = _terms(voucher)
    check_terms(terms, subtotal_minor, currency, now)
    return terms


async def take_voucher_use(
    session: AsyncSession, code: str, subtotal_minor: int, currency: str, now: datetime
) -> VoucherTerms:
    """Count one use of the code, by a conditional UPDATE: of two orders racing for the last
    use, one gets it and the other is refused with the reason."""
    terms = await check_voucher(session, code, subtotal_minor, currency, now)
    taken = await session.execute(
        update(Voucher)
        .where(
            col(Voucher.code) == terms.code,
            col(Voucher.active),
            (col(Voucher.usage_limit).is_(None)) | (col(Voucher.used_count) < Voucher.usage_limit),
            (col(Voucher.expires_at).is_(None)) | (col(Voucher.expires_at) > now),
            (col(Voucher.starts_at).is_(None)) | (col(Voucher.starts_at) <= now),
        )
        .values(used_count=Voucher.used_count + 1)
        .returning(col(Voucher.id))
    )
    if taken.scalar_one_or_none() is None:
        await check_voucher(session, code, subtotal_minor, currency, now)  # raises the reason
        raise VoucherRefused("used_up", f"The code {terms.code} has been used up.")
    return terms


async def give_back_voucher_use(session: AsyncSession, code: str) -> bool:
    """Count one use of the code less (its order was cancelled); False if the voucher is gone
    or shows no use to give back. Whatever else changed (expiry, limit, active) stays as is."""
    given = await session.execute(
        update(Voucher)
        .where(col(Voucher.code) == normalise_code(code), col(Voucher.used_count) > 0)
        .values(used_count=Voucher.used_count - 1)
        .returning(col(Voucher.id))
    )
    return given.scalar_one_or_none() is not None


async def create_voucher(
    session: AsyncSession, code: str, kind: str, amount: int, *, currency: str = "EUR",
    min_spend_minor: int = 0, usage_limit: int | None = None, expires_at: datetime | None = None,
    active: bool = True, starts_at: datetime | None = None,
) -> Voucher:  # fmt: skip
    """For staff tools and tests (the admin issue builds the pages)."""
    voucher = Voucher(
        code=normalise_code(code), kind=kind, amount=amount, currency=currency,
        min_spend_minor=min_spend_minor, usage_limit=usage_limit, expires_at=expires_at,
        active=active, starts_at=starts_at,
    )  # fmt: skip
    session.add(voucher)
    await session.flush()
    return voucher


async def count_orders(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Order))).scalar_one())
