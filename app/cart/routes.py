"""The cart's pages and writes. Every write works as a plain form (303 back to the cart) and
with htmx (the changed fragment, the header badge swapped out of band).

The add-to-cart form lives on cached product pages, so it carries no per-visitor token: the
origin check of app/web/csrf.py guards these writes (docs/security.md). The visitor's session
(and its cookie) starts with the first item added, never before.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import sessions
from app.cart import service as cart
from app.cart.service import CartError
from app.db import transaction
from app.web.caching import keep_private
from app.web.htmx import is_fragment_request, render
from app.web.params import whole_number
from app.web.sessions import CART_TOKEN_KEY, current_session, set_session_cookie


async def _cart_token(request: Request) -> str | None:
    session = await current_session(request)
    return session.data.get(CART_TOKEN_KEY) if session else None


async def _quantity(request: Request) -> tuple[int, int]:
    """The variant (from the path or the form) and the quantity asked for."""
    form = await request.form()
    variant = str(request.path_params.get("variant_id") or form.get("variant_id") or "")
    variant_id = whole_number(variant, 1, 2**31 - 1)
    quantity = whole_number(str(form.get("quantity", "1")).strip(), 0, cart.MAX_QUANTITY)
    if variant_id is None:
        raise CartError("unknown_variant", "Choose the options of the product first.")
    if quantity is None:
        raise CartError("bad_quantity", f"Choose a quantity from 1 to {cart.MAX_QUANTITY}.")
    return variant_id, quantity


async def show_cart(request: Request) -> Response:
    async with transaction(request.app.state.sessionmaker) as db:
        view = await cart.view_cart(db, await _cart_token(request))
    return keep_private(render(request, "cart/cart.html", {"cart": view, "title": "Your cart"}))


async def add_to_cart(request: Request) -> Response:
    token = await _cart_token(request)
    try:
        variant_id, quantity = await _quantity(request)
        async with transaction(request.app.state.sessionmaker) as db:
            new_token = await cart.add_line(db, token, variant_id, quantity)
            count = await cart.count_items(db, new_token)
    except CartError as error:
        return _refused(request, error)
    response = _after_change(request, "cart/_added.html", {"count": count, "quantity": quantity})
    if new_token != token:
        return await _remember_cart(request, response, new_token)
    return response


async def change_line(request: Request) -> Response:
    token = await _cart_token(request)
    try:
        variant_id, quantity = await _quantity(request)
        async with transaction(request.app.state.sessionmaker) as db:
            await cart.set_quantity(db, token, variant_id, quantity)
            view = await cart.view_cart(db, token)
    except CartError as error:
        return _refused(request, error)
    return _after_change(request, "cart/_contents.html", {"cart": view, "count": view.count})


async def remove_line(request: Request) -> Response:
    token = await _cart_token(request)
    async with transaction(request.app.state.sessionmaker) as db:
        await cart.remove_line(db, token, request.path_params["variant_id"])
        view = await cart.view_cart(db, token)
    return _after_change(request, "cart/_contents.html", {"cart": view, "count": view.count})


def _after_change(request: Request, fragment: str, context: dict[str, Any]) -> Response:
    if not is_fragment_request(request):
        return keep_private(RedirectResponse("/cart", status_code=303))
    return keep_private(render(request, fragment, context))


def _refused(request: Request, error: CartError) -> Response:
    context = {"error": error.message, "title": "Your cart"}
    if is_fragment_request(request):
        return keep_private(render(request, "cart/_refused.html", context, status_code=422))
    return keep_private(render(request, "cart/refused.html", context, status_code=422))


async def _remember_cart(request: Request, response: Response, token: str) -> Response:
    """Keep the new cart's token in the visitor's session, starting one if needed."""
    redis = request.app.state.redis
    session = await current_session(request)
    if session is None:
        session = await sessions.start_session(redis, data={CART_TOKEN_KEY: token})
    else:
        session.data[CART_TOKEN_KEY] = token
        await sessions.save_session(redis, session)
    return set_session_cookie(request, response, session)


routes = [
    Route("/cart", show_cart, methods=["GET"], name="cart"),
    Route("/cart/lines", add_to_cart, methods=["POST"], name="add_to_cart"),
    Route("/cart/lines/{variant_id:int}", change_line, methods=["POST"], name="change_cart_line"),
    Route(
        "/cart/lines/{variant_id:int}/remove",
        remove_line,
        methods=["POST"],
        name="remove_cart_line",
    ),
]
