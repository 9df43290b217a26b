"""Personal holes in cached pages, loaded by htmx after the page: never cached, never shared."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.accounts import service as accounts
from app.cart import service as cart
from app.db import transaction
from app.web.caching import keep_private
from app.web.sessions import CART_TOKEN_KEY, current_session, signed_in_account_id


async def cart_badge(request: Request) -> Response:
    """How many items are in the visitor's cart. Reads the session; never starts one."""
    count = 0
    session = await current_session(request)
    if session is not None and session.data.get(CART_TOKEN_KEY):
        async with transaction(request.app.state.sessionmaker) as db:
            count = await cart.count_items(db, session.data[CART_TOKEN_KEY])
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "partials/_cart_badge.html", {"count": count}
    )
    return keep_private(response)


async def account_menu(request: Request) -> Response:
    """ "Sign in", or the signed-in person's name. Reads the session; never starts one."""
    account = None
    account_id = await signed_in_account_id(request)
    if account_id is not None:
        async with transaction(request.app.state.sessionmaker) as db:
            account = await accounts.get_account(db, account_id)
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "partials/_account_menu.html", {"account": account}
    )
    return keep_private(response)


routes = [
    Route("/fragments/cart-badge", cart_badge, name="cart_badge"),
    Route("/fragments/account-menu", account_menu, name="account_menu"),
]
