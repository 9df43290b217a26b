"""The personal parts of cached pages, in one private request after the page has loaded.

Catalog pages are the same for everyone and come from the edge; the header's account menu and
cart badge show neutral defaults ("Sign in", 0). When the browser has a session (the readable
marker cookie, see app/web/sessions.py), app/static/js/me.js asks `/fragments/me` once, and
its answer replaces each personal part by an out-of-band swap; on a product page that includes
the visitor's recently viewed products. Visitors without a session never make the request.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.accounts import service as accounts
from app.accounts import sessions
from app.cart import service as cart
from app.catalog import service as catalog
from app.db import transaction
from app.web.caching import keep_private
from app.web.params import whole_number
from app.web.sessions import CART_TOKEN_KEY, COOKIE, MARKER_COOKIE, current_session

RECENT_KEY = "recent"  # session data: product ids viewed, newest first
KEEP_RECENT = 8
SHOW_RECENT = 4


async def me(request: Request) -> Response:
    """Cart badge and account menu for this visitor, and on a product page (`?viewing=<id>`)
    the products they viewed before it. Reads the session; never starts one."""
    session = await current_session(request)
    viewing = whole_number(request.query_params.get("viewing", ""), 1, 2**31 - 1)
    account, count, recent = None, 0, None
    if session is not None:
        async with transaction(request.app.state.sessionmaker) as db:
            if session.account_id is not None:
                account = await accounts.get_account(db, session.account_id)
            if session.data.get(CART_TOKEN_KEY):
                count = await cart.count_items(db, session.data[CART_TOKEN_KEY])
            if viewing is not None:
                seen = _remember_view(session.data, viewing)
                recent = await catalog.list_cards(db, seen[1 : SHOW_RECENT + 1])
        if viewing is not None:
            await sessions.save_session(request.app.state.redis, session)
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "partials/_me.html", {"account": account, "count": count, "recent": recent}
    )
    if session is None and (MARKER_COOKIE in request.cookies or COOKIE in request.cookies):
        # The session ended elsewhere (expired, signed out on another tab): stop asking.
        settings = request.app.state.settings
        for name in (MARKER_COOKIE, COOKIE):
            response.delete_cookie(
                name, path="/", secure=settings.session_cookie_secure, samesite="lax"
            )
    return keep_private(response)


def _remember_view(data: dict[str, str], product_id: int) -> list[int]:
    """Put the product first in the session's list of viewed products; the list, newest first.
    Ids from an older session that no longer parse are dropped."""
    try:
        earlier = [int(i) for i in json.loads(data.get(RECENT_KEY, "[]"))]
    except (ValueError, TypeError):
        earlier = []
    seen = [product_id, *(i for i in earlier if i != product_id)][:KEEP_RECENT]
    data[RECENT_KEY] = json.dumps(seen)
    return seen


routes = [Route("/fragments/me", me, name="me")]
