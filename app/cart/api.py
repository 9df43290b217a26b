"""/api/v1/carts: carts for channel apps. Scope `orders:write`.

A cart is made empty, filled line by line (a line per variant, addressed by the variant's id:
added, its quantity changed, removed) and then ordered (`POST /api/v1/orders`). Its token is the
capability, bound to the client that made it (`app/cart/owners.py`): another client gets 404.
Answers are personal (`private, no-store`), errors `{code, message}`.
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
# Refusals of the cart service: the variant cannot be had (409), the line is not in the cart
# (404), or the request is wrong (422). The service's `no_line` is `line_not_found` here.
_STATUSES = {"sold_out": 409, "not_enough": 409, "no_line": 404}
_CODES = {"no_line": "line_not_found"}


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
    problem: Annotated[
        str | None,
        describe(
            "`note` as a stable code: `sold_out` and `not_enough` keep the cart from checkout "
            "until the line is removed or lowered to `available`; `price_changed` is for "
            "information (the line is at today's price). Null when all is well.",
            enum=[*cart.PROBLEMS, None],
        ),
    ]


@dataclass(frozen=True)
class ApiCart:
    """A cart: its token (keep it: it is the only way back to the cart) and lines."""

    token: Annotated[str, describe("The cart's token, for the URLs and for placing the order.")]
    lines: list[ApiCartLine]
    subtotal_minor: Annotated[int, describe("The buyable lines' total, in minor units.", minimum=0)]
    currency: Annotated[str, describe("ISO 4217 code.", minLength=3, maxLength=3)]
    ready_for_checkout: Annotated[bool, describe("Has lines and every one can be bought.")]
    removed_variant_ids: Annotated[
        list[int],
        describe(
            "Lines of products no longer sold, taken out of the cart by this answer (named "
            "once, then gone)."
        ),
    ]


def api_cart(view: CartView, token: str) -> ApiCart:
    lines = [
        ApiCartLine(line.variant_id, line.sku, line.product_title, line.variant_title,
                    line.quantity, line.unit_price_minor, line.total_minor, line.available,
                    line.note, line.problem)
        for line in view.lines
    ]  # fmt: skip
    return ApiCart(token, lines, view.subtotal_minor, view.currency, view.ready_for_checkout,
                   list(view.removed_variant_ids))  # fmt: skip


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


def _line_id(request: Request) -> int:
    """The variant id of the line in the path; a number that cannot be one is a line not found."""
    raw: str = request.path_params["variant_id"]
    variant_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else 0
    if not 1 <= variant_id <= MAX_VARIANT_ID:
        raise ApiError(404, "line_not_found", "That item is not in your cart any more.")
    return variant_id


async def _change(
    request: Request, token: str, variant_id: int, quantity: int, *, adding: bool
) -> Response:
    """Add `quantity` units of the variant, or set its line's quantity (0 removes the line), in
    one transaction, and answer with the cart as it stands after."""
    try:
        async with transaction(request.app.state.sessionmaker) as session:
            if await cart.find_cart(session, token) is None:  # deleted as stale since
                raise not_found("No such cart.")
            if adding:
                await cart.add_line(session, token, variant_id, quantity)
            else:
                await cart.set_quantity(session, token, variant_id, quantity, strict=True)
            view = await cart.view_cart(session, token)
    except CartError as refused:
        status = _STATUSES.get(refused.code, 422)
        raise ApiError(status, _CODES.get(refused.code, refused.code), refused.message) from None
    return private_response(api_cart(view, token))


async def add_line(request: Request) -> Response:
    claims = await require_scope(request, SCOPE)
    token = await own_cart_token(request, claims, request.path_params["token"])
    body = await json_object(request)
    variant_id = body_int(body, "variant_id", minimum=1, maximum=MAX_VARIANT_ID)
    quantity = body_int(body, "quantity", minimum=1, maximum=cart.MAX_QUANTITY)
    return await _change(request, token, variant_id, quantity, adding=True)


async def update_line(request: Request) -> Response:
    claims = await require_scope(request, SCOPE)
    token = await own_cart_token(request, claims, request.path_params["token"])
    variant_id = _line_id(request)
    body = await json_object(request)
    quantity = body_int(body, "quantity", minimum=0, maximum=cart.MAX_QUANTITY)
    return await _change(request, token, variant_id, quantity, adding=False)


async def remove_line(request: Request) -> Response:
    claims = await require_scope(request, SCOPE)
    token = await own_cart_token(request, claims, request.path_params["token"])
    return await _change(request, token, _line_id(request), 0, adding=False)


LINE_PATH = "/api/v1/carts/{token:str}/lines/{variant_id:str}"
routes = [
    Route("/api/v1/carts", create_cart, methods=["POST"], name="api_create_cart"),
    Route("/api/v1/carts/{token:str}", get_cart, methods=["GET"], name="api_cart"),
    Route("/api/v1/carts/{token:str}/lines", add_line, methods=["POST"], name="api_add_line"),
    Route(LINE_PATH, update_line, methods=["PATCH"], name="api_update_line"),
    Route(LINE_PATH, remove_line, methods=["DELETE"], name="api_remove_line"),
]
