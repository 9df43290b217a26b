"""Paying through the payment simulator as a shopper would, and reading what it sent."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from app.settings import Settings

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
NO_FUNDS_CARD = "4000 0000 0000 9995"


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.stripe_secret_key}"}


async def pay_on_hosted_page(url: str, card: str) -> httpx.Response:
    """Fill in the hosted page's form and press Pay (no redirect followed)."""
    async with httpx.AsyncClient(timeout=10) as http:
        data = {"card_number": card, "card_expiry": "12 / 40", "card_cvc": "123"}
        return await http.post(url, data=data)


def local_path(url: str) -> str:
    """The path and query of a URL pointing back at the shop (for the in-process client)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def sim_events(settings: Settings, event_type: str | None = None) -> list[dict[str, Any]]:
    """The events the simulator made for this test's account, oldest first, each with its exact
    body and a Stripe-Signature the simulator computed."""
    async with httpx.AsyncClient(timeout=10) as http:
        url = f"{settings.stripe_api_base}/_sim/events"
        response = await http.get(url, headers=_auth(settings))
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()
    return [event for event in events if event_type in {None, event["type"]}]


async def set_faults(settings: Settings, **faults: Any) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{settings.stripe_api_base}/_sim/faults", json=faults, headers=_auth(settings)
        )
    response.raise_for_status()


async def deliver(client: httpx.AsyncClient, event: dict[str, Any]) -> httpx.Response:
    """Post one simulator event to the shop's webhook endpoint, signed by the simulator."""
    return await client.post(
        "/payments/webhooks/stripe",
        content=event["payload"].encode(),
        headers={"Stripe-Signature": event["signature"], "Content-Type": "application/json"},
    )


async def clear_faults(settings: Settings) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.delete(
            f"{settings.stripe_api_base}/_sim/faults", headers=_auth(settings)
        )
    response.raise_for_status()


async def flush_held_webhooks(settings: Settings) -> int:
    """Send the webhooks held by the `hold` fault, newest first (out of order)."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{settings.stripe_api_base}/_sim/webhooks/flush", headers=_auth(settings)
        )
    response.raise_for_status()
    sent: int = response.json()["sent"]
    return sent
