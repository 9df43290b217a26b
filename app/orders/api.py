"""/api/v1/orders: placing an order from an API cart (`orders:write`) and reading orders
(`orders:read`).

Placing needs an `Idempotency-Key` header: a retry with the same key and the same body gets the
same order (200 instead of 201), never a second one; the same key with another body is refused
(`idempotency_key_reused`), judged by a hash of the canonical body kept with the order. The key
is stored as the order's idempotency key, made unique per client and token subject
(`order_key`); its prefix marks the orders a client placed for itself, which is what a
client-credentials token reads back. A token acting for a shopper
reads that shopper's orders. Anything else is the same 404 as a number that does not exist.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.accounts.addresses import ADDRESS_FIELDS
from app.accounts.validation import FieldError
from app.cart.api import SCOPE as WRITE_SCOPE
from app.cart.api import own_cart_token
from app.checkout import service as checkout
from app.checkout.pricing import SHIPPING_METHODS
from app.checkout.service import CheckoutError, ItemsUnavailable
from app.checkout.state import CheckoutState
from app.db import transaction
from app.orders import service as orders
from app.orders.models import Order, OrderLine
from app.orders.vouchers import VoucherRefused, normalise_code
from app.web.api import (
    ApiError,
    body_text,
    invalid_field,
    invalid_parameter,
    json_object,
    not_found,
    page_params,
    private_response,
)
from app.web.bearer import AccessClaims, require_scope
from app.web.openapi import describe

READ_SCOPE = "orders:read"
IDEMPOTENCY_KEY = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{16,64}$"  # 16 to 64 visible ASCII characters
_KEY = re.compile(KEY_PATTERN)
NUMBER_MAX = 20
ADDRESS_FIELD_MAX = 200
VOUCHER_CODE_MAX = 40
STATUSES = list(orders.STATUS_LABELS)
# Why a voucher code is refused (app/orders/vouchers.py), each answered as `voucher_<reason>`.
VOUCHER_REASONS = (
    "unknown", "inactive", "expired", "not_yet_valid", "used_up", "currency", "min_spend",
)  # fmt: skip


@dataclass(frozen=True)
class ApiOrderLine:
    """A line as ordered: a snapshot, unchanged by later price changes."""

    variant_id: int
    sku: str
    product_title: str
    variant_title: str
    quantity: Annotated[int, describe("Units ordered.", minimum=1)]
    unit_price_minor: int
    discount_minor: Annotated[int, describe("This line's share of the discount.")]
    tax_minor: Annotated[int, describe("Tax in this line.")]
    total_minor: int
    unit_weight_grams: Annotated[
        int, describe("Shipping weight of one unit in grams (0: not recorded).", minimum=0)
    ]


@dataclass(frozen=True)
class ApiOrder:
    """An order with its lines and every amount, in minor units of `currency`."""

    number: Annotated[str, describe("The order number, e.g. EC-100001.")]
    status: Annotated[str, describe("Where the order stands.", enum=STATUSES)]
    created_at: Annotated[str, describe("When it was placed (UTC).", format="date-time")]
    email: str
    currency: Annotated[str, describe("ISO 4217 code.", minLength=3, maxLength=3)]
    subtotal_minor: int
    shipping_minor: int
    discount_minor: Annotated[int, describe("What the voucher took off the goods.", minimum=0)]
    voucher_code: Annotated[str | None, describe("The voucher applied (upper case), or null.")]
    tax_minor: int
    total_minor: int
    prices_include_tax: Annotated[bool, describe("Whether the total includes tax_minor.")]
    shipping_address: dict[str, str]
    shipping_method: str
    shipping_method_name: str
    reserved_until: Annotated[
        str, describe("Unpaid until then, the order is cancelled.", format="date-time")
    ]
    lines: list[ApiOrderLine]


@dataclass(frozen=True)
class ApiOrderSummary:
    """An order in a list; its URL has the lines."""

    number: str
    status: Annotated[str, describe("Where the order stands.", enum=STATUSES)]
    created_at: Annotated[str, describe("When it was placed (UTC).", format="date-time")]
    currency: str
    total_minor: int
    url: Annotated[str, describe("The order in this API, root-relative.")]


@dataclass(frozen=True)
class ApiOrderList:
    """A page of the caller's orders, newest first."""

    items: list[ApiOrderSummary]
    page: int
    limit: int
    total: Annotated[int, describe("Orders in all.", minimum=0)]
    next: Annotated[str | None, describe("The next page's URL, or null on the last page.")]


def _time(value: datetime | None) -> str:
    return (value or datetime.now(UTC)).astimezone(UTC).isoformat()


def api_order(order: Order, lines: list[OrderLine]) -> ApiOrder:
    return ApiOrder(
        order.number, order.status, _time(order.created_at), order.email, order.currency,
        order.subtotal_minor, order.shipping_minor, order.discount_minor, order.voucher_code,
        order.tax_minor, order.total_minor, order.prices_include_tax,
        {str(k): str(v) for k, v in order.shipping_address.items()}, order.shipping_method,
        order.shipping_method_name, _time(order.reserved_until),
        [ApiOrderLine(line.variant_id, line.sku, line.product_title, line.variant_title,
                      line.quantity, line.unit_price_minor, line.discount_minor, line.tax_minor,
                      line.total_minor, line.unit_weight_grams) for line in lines],
    )  # fmt: skip


# --- whose orders -----------------------------------------------------------------------------


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def key_prefix(client_id: str) -> str:
    """The start of every idempotency key of the orders a client places (61 characters in all,
    within the column's 64, whatever the client's id and key)."""
    return f"api:{_digest(client_id, 24)}:"


def order_key(claims: AccessClaims, key: str) -> str:
    """The stored key: the client's prefix and the caller's key, unique per token subject, so
    one client's (or shopper's) key can never return another's order."""
    return key_prefix(claims.client_id) + _digest(f"{claims.subject}\n{key}", 32)


def request_hash(body: dict[str, Any]) -> str:
    """SHA-256 of the body as canonical JSON (keys sorted, no spaces): the same for the same
    request however the client spaced or ordered it."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _is_theirs(order: Order, claims: AccessClaims) -> bool:
    if claims.account_id is not None:
        return order.account_id == claims.account_id
    return order.account_id is None and order.idempotency_key.startswith(
        key_prefix(claims.client_id)
    )


# --- input --------------------------------------------------------------------------------------


def _idempotency_key(request: Request) -> str:
    key = request.headers.get(IDEMPOTENCY_KEY, "")
    if not _KEY.match(key):
        raise invalid_parameter(IDEMPOTENCY_KEY, "must be 16 to 64 visible ASCII characters")
    return key


def _state(body: dict[str, Any]) -> CheckoutState:
    """E-mail, address and method of the body, checked as the checkout pages check them."""
    email = body_text(body, "email", max_length=254)
    raw = body.get("shipping_address")
    if not isinstance(raw, dict):
        raise invalid_field("shipping_address", "must be an object")
    address = {name: raw.get(name, "") for name in ADDRESS_FIELDS}
    for name, value in address.items():
        if not isinstance(value, str) or len(value) > ADDRESS_FIELD_MAX or "\x00" in value:
            raise invalid_field(f"shipping_address.{name}", "must be a string")
    method = body.get("shipping_method")
    if not isinstance(method, str) or method not in SHIPPING_METHODS:
        raise invalid_field("shipping_method", "must be one of " + ", ".join(SHIPPING_METHODS))
    voucher = body.get("voucher_code")
    if voucher is not None:
        voucher = normalise_code(body_text(body, "voucher_code", max_length=VOUCHER_CODE_MAX))
        if not voucher:
            raise invalid_field("voucher_code", "must not be blank")
    try:
        email, cleaned = checkout.clean_details(email, address)
    except FieldError as error:
        name = "email" if error.field == "email" else f"shipping_address.{error.field}"
        raise invalid_field(name, f"is not accepted: {error.message}") from None
    return CheckoutState(email=email, address=cleaned, shipping=method, voucher=voucher or "")


# --- handlers -----------------------------------------------------------------------------------

KEY_REUSED = (
    "This Idempotency-Key placed an order with a different request body: send a new key for "
    "a new order, or the first body unchanged to get that order."
)


async def place_order(request: Request) -> Response:
    claims = await require_scope(request, WRITE_SCOPE)
    key = _idempotency_key(request)
    body = await json_object(request)
    cart_token = body_text(body, "cart_token", max_length=64)
    state = _state(body)
    await own_cart_token(request, claims, cart_token)
    digest = request_hash(body)
    try:
        async with transaction(request.app.state.sessionmaker) as session:
            placed = await checkout.place_order(
                session, cart_token=cart_token, state=state, key=order_key(claims, key),
                expected_total_minor=None, account_id=claims.account_id,
                settings=request.app.state.settings, now=datetime.now(UTC), request_hash=digest,
            )  # fmt: skip
            if placed.order.request_hash not in (None, digest):
                raise ApiError(422, "idempotency_key_reused", KEY_REUSED)
            assert placed.order.id is not None
            lines = await orders.list_lines(session, placed.order.id)
    except ItemsUnavailable as unavailable:
        raise ApiError(409, "out_of_stock", unavailable.message) from None
    except CheckoutError as refused:  # empty_cart: the only other refusal of an API order
        raise ApiError(409, refused.code, refused.message) from None
    except VoucherRefused as refused:
        raise ApiError(422, f"voucher_{refused.code}", refused.message) from None
    url = f"/api/v1/orders/{placed.order.number}"
    status = 201 if placed.created else 200
    return private_response(api_order(placed.order, lines), status, {"Location": url})


async def list_orders(request: Request) -> Response:
    claims = await require_scope(request, READ_SCOPE)
    page, limit = page_params(request)
    async with transaction(request.app.state.sessionmaker) as session:
        found, total = await orders.page_orders(
            session, account_id=claims.account_id, key_prefix=key_prefix(claims.client_id),
            page=page, limit=limit,
        )  # fmt: skip
    items = [
        ApiOrderSummary(order.number, order.status, _time(order.created_at), order.currency,
                        order.total_minor, f"/api/v1/orders/{order.number}")
        for order in found
    ]  # fmt: skip
    next_url = None
    if page * limit < total:
        next_url = request.url.path + "?" + urlencode({"page": page + 1, "limit": limit})
    return private_response(ApiOrderList(items, page, limit, total, next_url))


async def get_order(request: Request) -> Response:
    claims = await require_scope(request, READ_SCOPE)
    number = request.path_params["number"]
    async with transaction(request.app.state.sessionmaker) as session:
        order = await orders.get_order(session, number)
        if order is None or order.id is None or not _is_theirs(order, claims):
            raise not_found(f"No order {number[:NUMBER_MAX]!r}")
        lines = await orders.list_lines(session, order.id)
    return private_response(api_order(order, lines))


routes = [
    Route("/api/v1/orders", place_order, methods=["POST"], name="api_place_order"),
    Route("/api/v1/orders", list_orders, methods=["GET"], name="api_orders"),
    Route("/api/v1/orders/{number:str}", get_order, methods=["GET"], name="api_order"),
]
