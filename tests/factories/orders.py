"""Orders for tests: a cart filled and checked out through the checkout service."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from app.cart import service as cart
from app.checkout import service as checkout
from app.checkout.state import CheckoutState
from app.orders.models import Order
from app.settings import Settings
from tests.factories.catalog import make_product
from tests.factories.db import session_for

ADDRESS = {
    "full_name": "Gia Guest", "line1": "Hauptstr. 1", "line2": "", "postal_code": "10115",
    "city": "Berlin", "region": "", "country": "DE", "phone": "",
}  # fmt: skip


@dataclass(frozen=True)
class Ready:
    """A cart ready to be ordered and the checkout state that goes with it."""

    cart_token: str
    variant_id: int
    state: CheckoutState


async def ready_cart(
    database_url: str, *, on_hand: int = 10, quantity: int = 2, price_minor: int = 1250,
    email: str = "gia@example.com", shipping: str = "standard", voucher: str = "",
    weight_grams: int = 400,
) -> Ready:  # fmt: skip
    async with session_for(database_url) as session:
        made = await make_product(
            session, stock=(on_hand,), price_minor=price_minor, weight_grams=weight_grams
        )
        token = await cart.add_line(session, None, made.variant_ids[0], quantity)
    state = CheckoutState(email, dict(ADDRESS), shipping, voucher, secrets.token_urlsafe(24))
    return Ready(token, made.variant_ids[0], state)


async def place(
    settings: Settings, ready: Ready, *, key: str | None = None, account_id: int | None = None,
    now: datetime | None = None, payment_method: str = "card",
) -> checkout.Placed:  # fmt: skip
    async with session_for(settings.database_url) as session:
        return await checkout.place_order(
            session, cart_token=ready.cart_token, state=ready.state,
            key=key or ready.state.key, expected_total_minor=None, account_id=account_id,
            settings=settings, now=now or datetime.now(UTC), payment_method=payment_method,
        )  # fmt: skip


async def make_order(settings: Settings, **cart_options: object) -> Order:
    ready = await ready_cart(settings.database_url, **cart_options)  # type: ignore[arg-type]
    return (await place(settings, ready)).order


def with_reservation(settings: Settings, minutes: int) -> Settings:
    return replace(settings, reservation_minutes=minutes)
