"""The handoff from checkout to payment. The Payments issue plugs gateways in behind
`start_payment`; until then no gateway is configured and nothing pretends to take money.

A placed order stays `pending_payment`, its stock held until the reservation expires; then the
orders' expiry job cancels it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.orders.models import Order


@dataclass(frozen=True)
class PaymentMethod:
    code: str
    name: str
    description: str


@dataclass(frozen=True)
class PaymentStart:
    """What happens after `place-order`: `redirect_url` is a provider's hosted payment page to
    send the shopper to; None means the shopper goes to the order page, which says why."""

    method: str
    redirect_url: str | None
    message: str


PAY_LATER = PaymentMethod(
    "pay_later",
    "Pay later",
    "No payment provider is connected in this demo shop, so you cannot pay yet. Your order is "
    "kept and its items are held for you until the reservation expires.",
)


def available_methods() -> list[PaymentMethod]:
    """The payment methods a shopper can choose at checkout, honestly: only "pay later"."""
    return [PAY_LATER]


async def start_payment(session: AsyncSession, order: Order) -> PaymentStart:
    """Hand a freshly placed order to payment. No gateway yet: the order waits, unpaid."""
    return PaymentStart(PAY_LATER.code, None, PAY_LATER.description)
