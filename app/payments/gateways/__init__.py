"""Payment provider adapters behind one interface (base.py), one module per provider."""

from __future__ import annotations

from app.payments.gateways.base import Gateway
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
