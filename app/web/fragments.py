"""The personal parts of cached pages, in one private request after the page has loaded.

Catalog pages are the same for everyone and come from the edge; the header's account menu and
cart badge show neutral defaults ("Sign in", 0). When the browser has a session (the readable
marker cookie, see app/web/sessions.py), app/static/js/me.js asks `/fragments/me` once, and
its answer replaces each personal part by an out-of-band swap. Visitors without a session never
make the request.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.accounts import service as accounts
from app.cart import service as cart
from app.db import transaction
from app.web.caching import keep_private
from app.web.sessions import CART_TOKEN_KEY, COOKIE, MARKER_COOKIE, current_session


async def me(request: Request) -> Response:
    """Cart badge and account menu for this visitor. Reads the session; never starts one."""
    session = await current_session(request)
    account, count = None, 0
    if session is not None:
        async with transaction(request.app.state.sessionmaker) as db:
            if session.account_id is not None:
                account = await accounts.get_account(db, session.account_id)
            if session.data.get(CART_TOKEN_KEY):
                count = await cart.count_items(db, session.data[CART_TOKEN_KEY])
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "partials/_me.html", {"account": account, "count": count}
    )
    if session is None and (MARKER_COOKIE in request.cookies or COOKIE in request.cookies):
        # The session ended elsewhere (expired, signed out on another tab): stop asking.
        settings = request.app.state.settings
        for name in (MARKER_COOKIE, COOKIE):
            response.delete_cookie(
                name, path="/", secure=settings.session_cookie_secure, samesite="lax"
            )
    return keep_private(response)


routes = [Route("/fragments/me", me, name="me")]
