"""Bank transfer: the shopper sends the money to the shop's account themselves, with the order
number as the reference, and staff record it when it arrives (app/payments/transfers.py).

There is no provider to call, no hosted page and no webhook, so this gateway never touches the
network and needs no circuit breaker; it is the method checkout falls back on when the card
provider is failing. "Starting" a transfer hands back the instructions' reference; its outcome
is only ever known from the shop's own records (staff saying the money arrived).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.payments.gateways.base import (
    CheckoutRequest,
    CheckoutStarted,
    GatewayRefused,
    PaymentStatus,
    ProviderState,
    Transaction,
    WebhookEvent,
    WebhookRejected,
)

NAME = "bank_transfer"


@dataclass(frozen=True)
class TransferInstructions:
    """What the shopper needs to pay by transfer: where to, how much, with which reference,
    and by when."""

    holder: str
    iban: str
    bic: str
    amount_minor: int
    currency: str
    reference: str  # the order number
    pay_by: datetime

    @property
    def iban_grouped(self) -> str:
        """The IBAN in groups of four, as banks print it (easier to copy without a slip)."""
        return " ".join(self.iban[i : i + 4] for i in range(0, len(self.iban), 4))


class BankTransferGateway:
    """The `Gateway` interface for payments by bank transfer into the shop's account."""

    name = NAME

    def __init__(self, holder: str, iban: str, bic: str) -> None:
        self.holder = holder
        self.iban = iban
        self.bic = bic

    def instructions(
        self, reference: str, amount_minor: int, currency: str, pay_by: datetime
    ) -> TransferInstructions:
        return TransferInstructions(
            self.holder, self.iban, self.bic, amount_minor, currency, reference, pay_by
        )

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutStarted:
        # No page to send the shopper to: the order page shows the instructions instead.
        return CheckoutStarted(redirect_url="", reference=request.order_number)

    async def lookup(self, reference: str) -> PaymentStatus:
        # No bank API here: an incoming transfer is known only once staff record it.
        return PaymentStatus(reference=reference, state=ProviderState.PENDING, amount_minor=0,
                             currency="")  # fmt: skip

    async def expire_checkout(self, reference: str, idempotency_key: str) -> PaymentStatus:
        return PaymentStatus(reference=reference, state=ProviderState.EXPIRED, amount_minor=0,
                             currency="")  # fmt: skip

    async def capture(
        self, provider_payment_id: str, amount_minor: int | None, idempotency_key: str
    ) -> Transaction:
        raise GatewayRefused("not_supported", "a bank transfer is taken when it arrives")

    async def void(self, provider_payment_id: str, idempotency_key: str) -> Transaction:
        raise GatewayRefused("not_supported", "a bank transfer cannot be voided")

    async def refund(
        self, provider_payment_id: str, amount_minor: int | None, idempotency_key: str
    ) -> Transaction:
        raise GatewayRefused("not_supported", "a bank transfer is refunded by a transfer back")

    def parse_webhook(self, payload: bytes, signature: str) -> WebhookEvent:
        raise WebhookRejected("no_webhooks", "bank transfers have no webhooks")

    async def aclose(self) -> None:
        return None
