"""Checkout: from a cart to a placed order handed to payment. Owns no tables; orchestrates the
cart, inventory, orders and notifications services; the route hands the placed order to the
payments service after the commit. Never commits.

`place_order` does all of its writes in the caller's one transaction: the order and its lines,
the stock reservation, the voucher use, the confirmation mail in the outbox, the emptied cart.
Any refusal raises, and the transaction rolls back with nothing written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.addresses import clean_address
from app.accounts.validation import COUNTRIES, normalise_email
from app.cart import service as cart
from app.cart.service import CartView
from app.checkout.pricing import (
    SHIPPING_METHODS,
    PriceLine,
    Quote,
    ShippingRate,
    ShippingUnavailable,
    quote,
    shipping_rate,
)
from app.checkout.state import CheckoutState
from app.inventory import service as inventory
from app.inventory.service import Line, OutOfStock
from app.money import format_money
from app.notifications.service import queue_email
from app.orders import service as orders
from app.orders.models import Order
from app.orders.vouchers import VoucherRefused, discount_for, normalise_code
from app.payments import service as payments
from app.payments import transfers
from app.payments.gateways.bank_transfer import TransferInstructions
from app.settings import Settings


class CheckoutError(ValueError):
    """Checkout cannot go on; `code` is stable, `message` is for the shopper."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ItemsUnavailable(CheckoutError):
    """Some items cannot be held in the quantity asked for; one message per item."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("out_of_stock", " ".join(problems))
        self.problems = problems


class ShippingRefused(CheckoutError):
    """The chosen shipping method does not exist or cannot take this cart (too heavy)."""


@dataclass(frozen=True)
class ShippingChoice:
    """The shipping methods for a cart: each with its price, or why it is not offered."""

    rates: list[ShippingRate]
    weight_grams: int
    currency: str


@dataclass(frozen=True)
class Priced:
    cart: CartView
    quote: Quote
    # Why the voucher in the state no longer applies (it is left out of the quote).
    voucher_problem: str | None = None
    voucher_refusal: str | None = None  # the same as VoucherRefused's code


@dataclass(frozen=True)
class Placed:
    order: Order
    created: bool  # False: this key had placed the order already (a replay)


def clean_details(email: str, address: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The e-mail address and shipping address, checked; FieldError for the first bad field."""
    return normalise_email(email), clean_address(address)


def _price_lines(view: CartView) -> list[PriceLine]:
    return [
        PriceLine(line.variant_id, line.sku, line.product_title, line.variant_title,
                  line.quantity, line.unit_price_minor, line.unit_weight_grams)
        for line in view.lines
    ]  # fmt: skip


async def _ready_cart(session: AsyncSession, cart_token: str | None) -> CartView:
    view = await cart.view_cart(session, cart_token)
    if not view.lines:
        raise CheckoutError("empty_cart", "Your cart is empty.")
    if not view.ready_for_checkout:
        raise ItemsUnavailable(
            [f"{line.product_title} ({line.variant_title}): {line.note or 'not available.'}"
             for line in view.lines if not line.buyable]
        )  # fmt: skip
    return view


def _quote(view: CartView, state: CheckoutState, method: str, discount: int, s: Settings) -> Quote:
    address = state.address
    if method not in SHIPPING_METHODS:
        raise ShippingRefused("unknown_shipping", "Please choose how to ship.")
    try:
        return quote(
            _price_lines(view), view.currency, address["country"], address.get("region", ""),
            method, discount, prices_include_tax=s.prices_include_tax,
        )  # fmt: skip
    except ShippingUnavailable as heavy:
        raise ShippingRefused("shipping_unavailable", heavy.message) from None


async def shipping_options(session: AsyncSession, cart_token: str | None) -> ShippingChoice:
    """Every shipping method with its price for this cart (before any voucher), or the reason
    it cannot take it. CheckoutError when the cart cannot be checked out."""
    view = await _ready_cart(session, cart_token)
    rates = [
        shipping_rate(method, view.subtotal_minor, view.weight_grams)
        for method in SHIPPING_METHODS.values()
    ]
    return ShippingChoice(rates, view.weight_grams, view.currency)


async def check_shipping(session: AsyncSession, cart_token: str | None, code: str) -> str:
    """`code` if that method can ship this cart; ShippingRefused with the reason if not."""
    choice = await shipping_options(session, cart_token)
    for rate in choice.rates:
        if rate.method.code == code:
            if rate.refusal:
                raise ShippingRefused("shipping_unavailable", rate.refusal)
            return code
    raise ShippingRefused("unknown_shipping", "Please choose how to ship.")


async def price_checkout(
    session: AsyncSession, cart_token: str | None, state: CheckoutState, settings: Settings,
    now: datetime,
) -> Priced:  # fmt: skip
    """The cart as it stands now, priced for the state's address, method and voucher."""
    if not state.complete:
        raise CheckoutError("incomplete", "Please fill in your details first.")
    view = await _ready_cart(session, cart_token)
    discount, problem, reason = 0, None, None
    if state.voucher:
        try:
            terms = await orders.check_voucher(
                session, state.voucher, view.subtotal_minor, view.currency, now
            )
            discount = discount_for(terms, view.subtotal_minor)
        except VoucherRefused as refused:
            problem, reason = refused.message, refused.code
    return Priced(view, _quote(view, state, state.shipping, discount, settings), problem, reason)


async def check_voucher_for_cart(
    session: AsyncSession, cart_token: str | None, code: str, now: datetime
) -> str:
    """The normalised code if it can be used on this cart; VoucherRefused with the reason."""
    view = await _ready_cart(session, cart_token)
    terms = await orders.check_voucher(session, code, view.subtotal_minor, view.currency, now)
    return terms.code


def _draft(
    state: CheckoutState, account_id: int | None, priced: Quote, request_hash: str | None
) -> orders.DraftOrder:
    lines = [
        orders.DraftLine(
            variant_id=line.item.variant_id, sku=line.item.sku,
            product_title=line.item.product_title, variant_title=line.item.variant_title,
            quantity=line.item.quantity, unit_price_minor=line.item.unit_price_minor,
            discount_minor=line.discount_minor, tax_minor=line.tax_minor,
            total_minor=line.total_minor, unit_weight_grams=line.item.unit_weight_grams,
        )
        for line in priced.lines
    ]  # fmt: skip
    return orders.DraftOrder(
        email=state.email, account_id=account_id, currency=priced.currency,
        subtotal_minor=priced.subtotal_minor, shipping_minor=priced.shipping_minor,
        discount_minor=priced.discount_minor, tax_minor=priced.tax_minor,
        total_minor=priced.total_minor, prices_include_tax=priced.prices_include_tax,
        shipping_address=state.address, shipping_method=priced.shipping.code,
        shipping_method_name=priced.shipping.name,
        voucher_code=normalise_code(state.voucher) if priced.discount_minor else None,
        lines=lines, request_hash=request_hash,
    )  # fmt: skip


async def place_order(
    session: AsyncSession, *, cart_token: str | None, state: CheckoutState, key: str,
    expected_total_minor: int | None, account_id: int | None, settings: Settings, now: datetime,
    request_hash: str | None = None, payment_method: str = payments.CARD,
) -> Placed:  # fmt: skip
    """Place the order for the cart, once per `key` (the review form's idempotency key).

    A key that placed an order already gives that order back, writing nothing. Raises
    CheckoutError (cart not ready, total changed since the review), ItemsUnavailable, or
    VoucherRefused; the caller's transaction then rolls back. `request_hash` is recorded with
    the order (the API's record of the request that placed it). With `payment_method` bank
    transfer the stock is held for the transfer and the mail carries its instructions.
    """
    # No look for the key first: a replay finds its cart emptied (or its total changed, its
    # stock or voucher taken) and is answered by the look below; one that prices the same ends
    # at the unique key in create_order. The common first submit saves a round trip.
    try:
        priced = await price_checkout(session, cart_token, state, settings, now)
        if priced.voucher_problem:
            raise VoucherRefused(priced.voucher_refusal or "voucher", priced.voucher_problem)
        if expected_total_minor is not None and priced.quote.total_minor != expected_total_minor:
            raise CheckoutError(
                "total_changed",
                "The total has changed since you looked at it: please check it and order again.",
            )
    except (CheckoutError, VoucherRefused):
        # This key's order may exist already (a replay), or a concurrent submit with it may
        # have committed meanwhile, emptying the cart: then that order is the order.
        twin = await orders.find_order_by_key(session, key)
        if twin is not None:
            return Placed(twin, False)
        raise
    # A bank transfer holds the stock for its days from the start (not a short hold extended).
    hold = (
        timedelta(days=settings.bank_transfer_days)
        if payment_method == payments.BANK_TRANSFER
        else timedelta(minutes=settings.reservation_minutes)
    )
    expires = now + hold
    draft = _draft(state, account_id, priced.quote, request_hash)
    order, created = await orders.create_order(session, draft, key, expires, state.email)
    if not created:  # a concurrent submit with this key won: its order is the order
        return Placed(order, False)
    wanted = [Line(line.variant_id, line.quantity) for line in priced.cart.lines]
    try:
        await inventory.reserve(session, order.number, wanted, expires, actor=state.email)
    except OutOfStock as short:
        raise ItemsUnavailable(_shortage(priced.cart, short)) from None
    if priced.quote.discount_minor:
        await orders.take_voucher_use(
            session, state.voucher, priced.cart.subtotal_minor, priced.quote.currency, now
        )
    transfer = None
    if payment_method == payments.BANK_TRANSFER:
        transfer = await transfers.start_bank_transfer(session, settings, order, now)
    await _queue_confirmation(session, order, priced.quote, settings, transfer)
    await cart.empty_cart(session, cart_token)
    # Payment starts after this transaction commits (payments.start_payment): the provider is
    # never called while the order's and the stock's rows are locked.
    return Placed(order, True)


def _shortage(view: CartView, short: OutOfStock) -> list[str]:
    for line in view.lines:
        if line.variant_id == short.variant_id:
            name = f"{line.product_title} ({line.variant_title})"
            if short.available <= 0:
                return [f"Sorry, {name} has just sold out: remove it from your cart to order."]
            return [
                f"Sorry, only {short.available} of {name} are left: lower the quantity to order."
            ]
    return ["Sorry, an item in your cart has just sold out."]


def order_url(settings: Settings, number: str) -> str:
    """The signed link to an order's page, for the shopper's mail."""
    token = orders.guest_token(str(settings.secret_key), number)
    return f"{settings.site_url}/orders/{number}?key={token}"


async def _queue_confirmation(
    session: AsyncSession, order: Order, priced: Quote, settings: Settings,
    transfer: TransferInstructions | None,
) -> None:  # fmt: skip
    def money(amount: int) -> str:
        return format_money(amount, priced.currency)

    address = order.shipping_address
    country = COUNTRIES[address["country"]].name
    context = {
        "number": order.number,
        "order_url": order_url(settings, order.number),
        "lines": [
            {"title": f"{line.item.product_title} ({line.item.variant_title})",
             "quantity": line.item.quantity, "total": money(line.total_minor)}
            for line in priced.lines
        ],
        "subtotal": money(priced.subtotal_minor),
        "shipping": money(priced.shipping_minor),
        "shipping_method": priced.shipping.name,
        "discount": money(priced.discount_minor) if priced.discount_minor else "",
        "tax": money(priced.tax_minor),
        "tax_included": priced.prices_include_tax,
        "total": money(priced.total_minor),
        "address": [
            part for part in (
                address["full_name"], address["line1"], address.get("line2", ""),
                f"{address['postal_code']} {address['city']}", address.get("region", ""), country,
            ) if part
        ],
        "reservation_minutes": settings.reservation_minutes,
        "transfer": None if transfer is None else {
            "holder": transfer.holder, "iban": transfer.iban_grouped, "bic": transfer.bic,
            "amount": money(transfer.amount_minor), "reference": transfer.reference,
            "pay_by": transfer.pay_by.strftime("%H:%M UTC on %d %B %Y"),
        },
    }  # fmt: skip
    key = f"order-confirmation:{order.number}"
    await queue_email(session, order.email, "order_confirmation", context, key=key)
