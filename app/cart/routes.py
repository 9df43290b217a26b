"""The cart's URLs. The cart itself arrives with the "Cart, checkout…" issue; until then the
add-to-cart form gets an honest page instead of a 404."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.web.caching import keep_private


async def cart_not_open(request: Request) -> Response:
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "cart/not_open.html", {"title": "The cart opens soon"}, status_code=501
    )
    return keep_private(response)


routes = [Route("/cart/lines", cart_not_open, methods=["POST"], name="add_to_cart")]
