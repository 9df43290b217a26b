"""Payment provider adapters behind one interface (base.py), one module per provider."""

from __future__ import annotations

from redis.asyncio import Redis

from app.payments.breaker import BreakerPolicy, CircuitBreaker
from app.payments.gateways.bank_transfer import BankTransferGateway
from app.payments.gateways.base import Gateway
from app.payments.gateways.guarded import GuardedGateway
from app.payments.gateways.stripe import StripeGateway
from app.settings import Settings


def create_gateway(settings: Settings) -> Gateway:
    """The card gateway the settings describe (Stripe, or the simulator speaking its API)."""
    return StripeGateway(
        secret_key=str(settings.stripe_secret_key),
        webhook_secret=str(settings.stripe_webhook_secret),
        api_base=settings.stripe_api_base,
        timeout_seconds=settings.stripe_timeout_seconds,
    )


def card_breaker(redis: Redis, settings: Settings) -> CircuitBreaker:
    """The card gateway's circuit breaker, shared by every instance through Redis."""
    policy = BreakerPolicy(
        failures=settings.payment_breaker_failures,
        window_seconds=settings.payment_breaker_window_seconds,
        cooldown_seconds=settings.payment_breaker_cooldown_seconds,
    )
    return CircuitBreaker(redis, "stripe", policy)


def create_guarded_gateway(settings: Settings, redis: Redis) -> GuardedGateway:
    """The card gateway behind its circuit breaker: what the web app uses."""
    return GuardedGateway(create_gateway(settings), card_breaker(redis, settings))


def create_bank_transfer(settings: Settings) -> BankTransferGateway:
    return BankTransferGateway(
        settings.bank_transfer_holder, settings.bank_transfer_iban, settings.bank_transfer_bic
    )
