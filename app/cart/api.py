"""/api/v1/carts: carts for channel apps. Scope `orders:write`.

A cart is made empty, filled line by line and then ordered (`POST /api/v1/orders`). Its token
is the capability, bound to the client that made it (`app/cart/owners.py`): another client gets
404. Answers are personal (`private, no-store`), errors `{code, message}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.cart import owners
from app.cart import service as cart
from app.cart.service import CartError, CartView
from app.db import transaction
from app.web.api import ApiError, body_int, json_object, not_found, private_response
from app.web.bearer import AccessClaims, require_scope
from app.web.openapi import describe

SCOPE = "orders:write"
MAX_VARIANT_ID = 2**31 - 1
# Refusals of the cart service: the variant cannot be had (409) or the request is wrong (422).
_CONFLICTS = frozenset({"sold_out", "not_enough"})


@dataclass(frozen=True)
class ApiCartLine:
    """A line of a cart, at today's price and stock."""

    variant_id: Annotated[int, describe("The variant.", minimum=1)]
    sku: str
    product_title: str
    variant_title: str
    quantity: Annotated[int, describe("Units in the cart.", minimum=1, maximum=cart.MAX_QUANTITY)]
    unit_price_minor: Annotated[int, describe("Today's unit price, in minor units.", minimum=0)]
    total_minor: Annotated[int, describe("unit_price_minor times quantity.", minimum=0)]
    available: Annotated[int, describe("Units that can be had now.", minimum=0)]
    note: Annotated[
        str | None, describe("What changed since the line was added (sold out, price); or null.")
    ]


@dataclass(frozen=True)
class ApiCart:
    """A cart: its token (keep it: it is the only way back to the cart) and lines."""

    token: Annotated[str, describe("The cart's token, for the URLs and for placing the order.")]
    lines: list[ApiCartLine]
    subtotal_minor: Annotated[int, describe("The buyable lines' total, in minor units.", minimum=0)]
    currency: Annotated[str, describe("ISO 4217 code.", minLength=3, maxLength=3)]
    ready_for_checkout: Annotated[bool, describe("Has lines and every one can be bought.")]


def api_cart(view: CartView, token: str) -> ApiCart:
    lines = [
        ApiCartLine(line.variant_id, line.sku, line.product_title, line.variant_title,
                    line.quantity, line.unit_price_minor, line.total_minor, line.available,
                    line.note)
        for line in view.lines
    ]  # fmt: skip
    return ApiCart(token, lines, view.subtotal_minor, view.currency, view.ready_for_checkout)


async def own_cart_token(request: Request, claims: AccessClaims, token: str) -> str:
    """`token` if this caller made that cart; else the 404 of a cart that does not exist."""
    if not await owners.owns_cart(request.app.state.redis, token, claims):
        raise not_found("No such cart.")
    return token


async def create_cart(request: Request) -> Response:
    claims = await require_scope(request, SCOPE)
    async with transaction(request.app.state.sessionmaker) as session:
        token = await cart.create_cart(session)
    await owners.claim_cart(request.app.state.redis, token, claims)
    location = {"Location": f"/api/v1/carts/{token}"}
    return private_response(api_cart(CartView(token), token), 201, location)


async def get_cart(request: Request) -> Response:
    claims = await require_scope(request, SCOPE)
    token = await own_cart_token(request, claims, request.path_params["token"])
    async with transaction(request.app.state.sessionmaker) as session:
        view = await cart.view_cart(session, token)
    if view.token is None:  # deleted as stale since
        raise not_found("No such cart.")
    return private_response(api_cart(view, token))


async def add_line(request: Request) -> Response:
    claims = await require_scope(request, SCOPE)
    token = await own_cart_token(request, claims, request.path_params["token"])
    body = await json_object(request)
    variant_id = body_int(body, "variant_id", minimum=1, maximum=MAX_VARIANT_ID)
    quantity = body_int(body, "quantity", minimum=1, maximum=cart.MAX_QUANTITY)
    try:
        async with transaction(request.app.state.sessionmaker) as session:
            if await cart.find_cart(session, token) is None:  # deleted as stale since
                raise not_found("No such cart.")
            await cart.add_line(session, token, variant_id, quantity)
            view = await cart.view_cart(session, token)
    except CartError as refused:
        status = 409 if refused.code in _CONFLICTS else 422
        raise ApiError(status, refused.code, refused.message) from None
    return private_response(api_cart(view, token))


routes = [
    Route("/api/v1/carts", create_cart, methods=["POST"], name="api_create_cart"),
    Route("/api/v1/carts/{token:str}", get_cart, methods=["GET"], name="api_cart"),
    Route("/api/v1/carts/{token:str}/lines", add_line, methods=["POST"], name="api_add_line"),
]
