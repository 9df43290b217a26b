"""Personal holes in cached pages, loaded by htmx after the page: never cached, never shared."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.web.caching import keep_private


async def cart_badge(request: Request) -> Response:
    # The cart arrives with the cart issue; until then every visitor's cart is empty.
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "partials/_cart_badge.html", {"count": 0}
    )
    return keep_private(response)


async def account_menu(request: Request) -> Response:
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "partials/_account_menu.html", {"user": None}
    )
    return keep_private(response)


routes = [
    Route("/fragments/cart-badge", cart_badge, name="cart_badge"),
    Route("/fragments/account-menu", account_menu, name="account_menu"),
]
