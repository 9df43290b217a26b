"""The one interface every payment provider adapter implements, and what it hands back.

Adapters speak their provider's protocol and translate its answers into these small dataclasses
with our own states; the payments service never sees a provider's objects. Every call that
changes something at the provider takes an idempotency key, so a retried call (a timeout, a
crash before the answer was stored) cannot charge, capture or refund twice.

Errors: `GatewayUnavailable` when the provider could not be reached or answered 5xx (try again
later; nothing is known to have happened), `GatewayRefused` when it answered with a definite
no (4xx: a bad request, a card error, a state that does not allow the call), and
`WebhookRejected` when a webhook's signature or body is not genuine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class ProviderState(StrEnum):
    """Where a payment stands at the provider, in our words."""

    PENDING = "pending"  # the shopper has not (successfully) paid yet
    AUTHORIZED = "authorized"  # the money is held, waiting to be captured
    CAPTURED = "captured"  # the money is taken
    FAILED = "failed"  # the last try failed (declined …); the hosted page may still be open
    CANCELED = "canceled"  # an authorization was released, nothing was taken
    EXPIRED = "expired"  # the hosted page closed without a payment


class CaptureMode(StrEnum):
    AUTOMATIC = "automatic"  # authorize and capture in one go
    MANUAL = "manual"  # authorize on the hosted page, the shop captures afterwards


class GatewayError(Exception):
    """Something went wrong talking to a provider; `code` is stable, `message` for the logs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class GatewayUnavailable(GatewayError):
    """No answer, a timeout, or a 5xx: the outcome is unknown; retry with the same key."""


class GatewayRefused(GatewayError):
    """The provider said no (4xx). `decline_code` is set for card declines."""

    def __init__(self, code: str, message: str, decline_code: str | None = None) -> None:
        super().__init__(code, message)
        self.decline_code = decline_code


class WebhookRejected(GatewayError):
    """The webhook is not genuine (bad or stale signature) or cannot be read."""


@dataclass(frozen=True)
class CheckoutRequest:
    """What the shop asks a provider to take payment for."""

    payment_id: int  # our record; the adapter stores it with the provider (metadata)
    order_number: str
    amount_minor: int
    currency: str
    email: str
    description: str
    return_url: str  # where the hosted page sends the shopper after paying
    cancel_url: str  # "back to the shop" on the hosted page
    expires_at: int  # Unix time after which the hosted page must not take a payment
    capture_mode: CaptureMode
    idempotency_key: str


@dataclass(frozen=True)
class CheckoutStarted:
    redirect_url: str  # the provider's hosted payment page
    reference: str  # the provider's id of the hosted session (Stripe: cs_…)


@dataclass(frozen=True)
class PaymentStatus:
    """A provider's view of one payment attempt."""

    reference: str  # the hosted session
    state: ProviderState
    amount_minor: int
    currency: str
    payment_id: int | None = None  # ours, from the provider's metadata
    provider_payment_id: str | None = None  # the payment behind the session (Stripe: pi_…)
    captured_minor: int = 0
    failure_code: str | None = None  # e.g. card_declined
    decline_code: str | None = None  # e.g. insufficient_funds
    failure_message: str | None = None  # the provider's own words, for the logs


@dataclass(frozen=True)
class Transaction:
    """The result of a capture, void or refund."""

    provider_id: str
    state: str  # succeeded, pending, failed
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook: its id (to process once), its type, and what it says, if it is
    about a payment attempt of ours."""

    event_id: str
    event_type: str
    status: PaymentStatus | None = None
    raw_type_handled: bool = field(default=True)


class Gateway(Protocol):
    """A payment provider with a hosted payment page."""

    name: str

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutStarted:
        """Open a hosted payment page for the order; the shopper is sent to its URL."""
        ...

    async def lookup(self, reference: str) -> PaymentStatus:
        """Ask the provider where the attempt with this hosted-session reference stands."""
        ...

    async def expire_checkout(self, reference: str, idempotency_key: str) -> PaymentStatus:
        """Close a hosted page so that it takes no payment any more (before a new attempt).
        Returns the status afterwards: CAPTURED/AUTHORIZED if the shopper paid after all."""
        ...

    async def capture(
        self, provider_payment_id: str, amount_minor: int | None, idempotency_key: str
    ) -> Transaction:
        """Capture an authorization (all of it when `amount_minor` is None)."""
        ...

    async def void(self, provider_payment_id: str, idempotency_key: str) -> Transaction:
        """Release an authorization that was not captured."""
        ...

    async def refund(
        self, provider_payment_id: str, amount_minor: int | None, idempotency_key: str
    ) -> Transaction:
        """Refund a captured payment, all of it (None) or part. The same key twice is one
        refund."""
        ...

    def parse_webhook(self, payload: bytes, signature: str) -> WebhookEvent:
        """Verify the signature over the raw body and read the event; WebhookRejected if the
        signature is wrong, stale or missing, or the body is not an event."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        ...
