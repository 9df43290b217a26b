"""Which payment methods checkout offers right now, and why one is not.

The card gateway sits behind a circuit breaker (gateways/guarded.py). While the breaker is
open, card payments are shown as unavailable with the reason in plain words and bank transfer
is chosen instead; once the cool-down has passed, the next card payment is the trial that closes
the breaker again (half-open: card is offered again). Nobody has to switch anything back.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.payments.gateways.base import Gateway
from app.payments.gateways.guarded import GuardedGateway
from app.payments.service import BANK_TRANSFER, CARD, available_methods

CARD_UNAVAILABLE = (
    "Card payments are unavailable right now: {reason}. You can pay by bank transfer."
)


@dataclass(frozen=True)
class MethodOffer:
    code: str
    name: str
    description: str
    available: bool


@dataclass(frozen=True)
class PaymentChoice:
    """The methods as the review step shows them: `default` is preselected, `notice` says why
    card payments are not offered (None while they are)."""

    methods: list[MethodOffer]
    default: str
    notice: str | None

    def offers(self, code: str) -> bool:
        return any(method.code == code and method.available for method in self.methods)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(method.code for method in self.methods)


async def card_notice(gateway: Gateway) -> str | None:
    """Why card payments are unavailable right now, for the shopper; None while they are."""
    if not isinstance(gateway, GuardedGateway):
        return None
    status = await gateway.breaker.status()
    if status.state != "open":
        return None  # closed, or half-open: the next card payment is the trial
    return CARD_UNAVAILABLE.format(reason=status.reason or "our card provider is not responding")


async def payment_choice(gateway: Gateway) -> PaymentChoice:
    notice = await card_notice(gateway)
    methods = [
        MethodOffer(method.code, method.name, method.description,
                    available=not (method.code == CARD and notice))
        for method in available_methods()
    ]  # fmt: skip
    return PaymentChoice(methods, BANK_TRANSFER if notice else CARD, notice)
