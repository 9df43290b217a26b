"""Forgotten passwords: ask for a link, then choose a new password through it. The answer to
"send me a link" is the same whether or not the address has an account."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.accounts import resets, sessions, signin
from app.accounts import service as accounts
from app.accounts.routes import too_many
from app.accounts.validation import FieldError, check_password
from app.db import transaction
from app.web import ratelimit
from app.web.forms import field, render_personal
from app.web.ratelimit import RateLimited


async def request_page(request: Request) -> Response:
    return render_personal(request, "accounts/reset_request.html", {"email": "", "errors": {}})


async def request_submit(request: Request) -> Response:
    form = await request.form()
    email = field(form, "email", 320)
    context: dict[str, Any] = {"email": email, "errors": {}}
    settings = request.app.state.settings
    try:
        await ratelimit.hit_per_address(request, "reset-ip", settings.reset_limit_per_ip)
    except RateLimited as limited:
        return too_many(request, "accounts/reset_request.html", context, limited.retry_after)
    link_prefix = f"{settings.site_url}/account/password-reset/"
    async with transaction(request.app.state.sessionmaker) as db:
        await resets.request_reset(db, request.app.state.redis, email, link_prefix)
    return render_personal(request, "accounts/reset_sent.html", {"email": email})


async def new_password_page(request: Request) -> Response:
    token = request.path_params["token"]
    if not await resets.reset_link_works(request.app.state.redis, token):
        return render_personal(request, "accounts/reset_expired.html", {}, status_code=410)
    return render_personal(request, "accounts/reset_new.html", {"token": token, "errors": {}})


async def new_password_submit(request: Request) -> Response:
    token = request.path_params["token"]
    form = await request.form()
    password = field(form, "new_password")
    try:
        check_password(password, "new_password")
    except FieldError as error:
        context = {"token": token, "errors": {error.field: error.message}}
        return render_personal(request, "accounts/reset_new.html", context, status_code=422)
    redis = request.app.state.redis
    account_id = await resets.use_reset_link(redis, token)
    if account_id is None:
        return render_personal(request, "accounts/reset_expired.html", {}, status_code=410)
    async with transaction(request.app.state.sessionmaker) as db:
        account = await accounts.get_account(db, account_id)
        if account is None:
            return render_personal(request, "accounts/reset_expired.html", {}, status_code=410)
        await accounts.set_password(db, account, password)
    # Whoever knew the old password is signed out; the person resetting is signed in.
    await sessions.end_all_sessions(redis, account_id)
    return await signin.finish_signin(request, None, account, "/account?done=reset")


routes = [
    Route("/account/password-reset", request_page, methods=["GET"], name="password_reset"),
    Route(
        "/account/password-reset", request_submit, methods=["POST"], name="password_reset_submit"
    ),
    Route(
        "/account/password-reset/{token:str}",
        new_password_page,
        methods=["GET"],
        name="password_reset_link",
    ),
    Route(
        "/account/password-reset/{token:str}",
        new_password_submit,
        methods=["POST"],
        name="password_reset_link_submit",
    ),
]
