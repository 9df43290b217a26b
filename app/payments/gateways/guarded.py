"""A network gateway behind its circuit breaker (app/payments/breaker.py).

Every call first asks the breaker; while it is open the call fails at once with
`GatewayUnavailable("breaker_open")` instead of waiting for a provider that is known to be
failing. What the provider does feeds the breaker: no answer, a timeout or a 5xx
(`GatewayUnavailable`) is a failure; any answer — a success, and also a definite no such as a
refused request (`GatewayRefused`) — shows the provider is up and counts as a success. A card
declined on the hosted page never reaches the shop as a call, so it can never trip it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.payments.breaker import CircuitBreaker
from app.payments.gateways.base import (
    CheckoutRequest,
    CheckoutStarted,
    Gateway,
    GatewayRefused,
    GatewayUnavailable,
    PaymentStatus,
    Transaction,
    WebhookEvent,
)

T = TypeVar("T")
BREAKER_OPEN = "breaker_open"
# Why the breaker opened, in the shopper's words ("Card payments are unavailable right now: …").
REASONS = {
    "unreachable": "our card provider is not responding",
    "provider_error": "our card provider is reporting errors",
}
DEFAULT_REASON = "our card provider is not responding"


class GuardedGateway:
    """The `Gateway` interface around another gateway, through its circuit breaker."""

    def __init__(self, inner: Gateway, breaker: CircuitBreaker) -> None:
        self.inner = inner
        self.breaker = breaker
        self.name = inner.name

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        if not await self.breaker.allow():
            raise GatewayUnavailable(BREAKER_OPEN, f"the {self.name} circuit breaker is open")
        try:
            result = await call()
        except GatewayUnavailable as error:
            await self.breaker.record_failure(REASONS.get(error.code, DEFAULT_REASON))
            raise
        except GatewayRefused:
            await self.breaker.record_success()  # it answered: it is up
            raise
        await self.breaker.record_success()
        return result

    async def start_checkout(self, request: CheckoutRequest) -> CheckoutStarted:
        return await self._call(lambda: self.inner.start_checkout(request))

    async def lookup(self, reference: str) -> PaymentStatus:
        return await self._call(lambda: self.inner.lookup(reference))

    async def expire_checkout(self, reference: str, idempotency_key: str) -> PaymentStatus:
        return await self._call(lambda: self.inner.expire_checkout(reference, idempotency_key))

    async def capture(
        self, provider_payment_id: str, amount_minor: int | None, idempotency_key: str
    ) -> Transaction:
        return await self._call(
            lambda: self.inner.capture(provider_payment_id, amount_minor, idempotency_key)
        )

    async def void(self, provider_payment_id: str, idempotency_key: str) -> Transaction:
        return await self._call(lambda: self.inner.void(provider_payment_id, idempotency_key))

    async def refund(
        self, provider_payment_id: str, amount_minor: int | None, idempotency_key: str
    ) -> Transaction:
        return await self._call(
            lambda: self.inner.refund(provider_payment_id, amount_minor, idempotency_key)
        )

    def parse_webhook(self, payload: bytes, signature: str) -> WebhookEvent:
        return self.inner.parse_webhook(payload, signature)  # local work: no call to guard

    async def aclose(self) -> None:
        await self.inner.aclose()
