"""Account pages: sign in and out, register, the account overview, password and e-mail
changes, export and erasure. Addresses are in `address_routes.py`, password reset in
`reset_routes.py`. Every page here is personal: `private, no-store`, never cached.

Forms are plain POST forms (no hx-boost), so every status code reaches the person as a page.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import addresses, sessions, signin, totp
from app.accounts import service as accounts
from app.accounts.validation import FieldError
from app.db import transaction
from app.orders import service as orders
from app.web import ratelimit
from app.web.caching import keep_private
from app.web.forms import field, personal_form, render_personal
from app.web.ratelimit import Rate, RateLimited, limit_key
from app.web.sessions import (
    clear_session_cookie,
    current_session,
    remember,
    require_account,
    signed_in,
)

NOTICES = {
    "password": "Your password is changed.",
    "email": "Your e-mail address is changed.",
    "address-saved": "The address is saved.",
    "address-deleted": "The address is deleted.",
    "welcome": "Welcome! Your account is ready.",
    "signed-out-elsewhere": "You are signed out on every other device.",
    "reset": "Your password is changed and you are signed in.",
}


def too_many(request: Request, template: str, context: dict[str, Any], wait: int) -> Response:
    minutes = max(1, round(wait / 60))
    context["errors"] = {
        "form": f"Too many attempts. Please wait {minutes} minute{'s' if minutes > 1 else ''} "
        "and try again."
    }
    response = render_personal(request, template, context, status_code=429)
    response.headers["Retry-After"] = str(wait)
    return response


# --- signing in and out ------------------------------------------------------------------


async def account_home(request: Request) -> Response:
    found = await signed_in(request)
    if found is None:
        return await login_page(request)
    session, account = found
    async with transaction(request.app.state.sessionmaker) as db:
        saved = await addresses.list_addresses(db, account.id or 0)
        history = await orders.list_account_orders(db, account.id or 0)
    notice = NOTICES.get(request.query_params.get("done", ""))
    context = {"account": account, "addresses": saved, "notice": notice, "orders": history}
    return render_personal(request, "accounts/account.html", context, session=session)


def login_context(request: Request, next_path: str, email: str = "") -> dict[str, Any]:
    """The sign-in form's context, with a "Continue with …" button when OIDC is configured."""
    settings = request.app.state.settings
    providers = (
        [{"name": settings.oidc_provider, "label": settings.oidc_display_name}]
        if settings.oidc_enabled
        else []
    )
    return {"next": next_path, "email": email, "errors": {}, "oidc_providers": providers}


async def login_page(request: Request) -> Response:
    next_path = signin.safe_next(request.query_params.get("next"), "")
    return render_personal(request, "accounts/login.html", login_context(request, next_path))


async def login_submit(request: Request) -> Response:
    form = await request.form()
    email, password = field(form, "email", 320), field(form, "password", 1000)
    # No target: staff go to /admin, shoppers to /account (signin.finish_signin).
    next_path = signin.safe_next(field(form, "next", signin.MAX_NEXT), "")
    context = login_context(request, next_path, email)
    try:
        await signin.check_signin_limits(request, email)
    except RateLimited as limited:
        return too_many(request, "accounts/login.html", context, limited.retry_after)
    async with transaction(request.app.state.sessionmaker) as db:
        account = await accounts.authenticate(db, email, password)
    if account is None:
        await signin.record_failure(request, email)
        # One message whether or not the address has an account.
        context["errors"] = {"form": "That e-mail address and password do not match an account."}
        return render_personal(request, "accounts/login.html", context, status_code=422)
    return await signin.complete_signin(request, account, next_path)


async def code_page(request: Request) -> Response:
    session = await current_session(request)
    if session is None or "totp_account" not in session.data:
        return keep_private(RedirectResponse("/account/login", status_code=303))
    return render_personal(request, "accounts/code.html", {"errors": {}}, session=session)


async def code_submit(request: Request) -> Response:
    session = await current_session(request)
    if session is None or "totp_account" not in session.data:
        return keep_private(RedirectResponse("/account/login", status_code=303))
    form = await personal_form(request, session)
    redis = request.app.state.redis
    settings = request.app.state.settings
    try:
        await ratelimit.hit(
            redis,
            limit_key("totp", session.data["totp_account"]),
            Rate.parse(settings.signin_limit_per_account),
        )
    except RateLimited as limited:
        return too_many(request, "accounts/code.html", {}, limited.retry_after)
    async with transaction(request.app.state.sessionmaker) as db:
        account = await accounts.get_account(db, int(session.data["totp_account"]))
    if account is None or not account.totp_secret:
        return keep_private(RedirectResponse("/account/login", status_code=303))
    if not totp.verify_code(account.totp_secret, field(form, "code", 20)):
        errors = {"code": "That code is not right. Use the newest code from your app."}
        return render_personal(
            request, "accounts/code.html", {"errors": errors}, session=session, status_code=422
        )
    next_path = session.data.get("next", "/admin")
    return await signin.finish_signin(request, session, account, next_path)


async def logout(request: Request) -> Response:
    session = await current_session(request)
    if session is not None:
        await personal_form(request, session)
        await sessions.end_session(request.app.state.redis, session)
        remember(request, None)
    response = RedirectResponse("/", status_code=303)
    return clear_session_cookie(request, response)


async def logout_everywhere(request: Request) -> Response:
    """End every session of the account, then start a fresh one here."""
    session, account = await require_account(request)
    await personal_form(request, session)
    await sessions.end_all_sessions(request.app.state.redis, account.id or 0)
    return await signin.finish_signin(request, None, account, "/account?done=signed-out-elsewhere")


# --- registering --------------------------------------------------------------------------


async def register_page(request: Request) -> Response:
    context = {
        "values": {},
        "errors": {},
        "next": signin.safe_next(request.query_params.get("next"), ""),
    }
    return render_personal(request, "accounts/register.html", context)


async def register_submit(request: Request) -> Response:
    form = await request.form()
    values = {"email": field(form, "email", 320), "full_name": field(form, "full_name", 200)}
    next_path = signin.safe_next(field(form, "next", signin.MAX_NEXT), "/account?done=welcome")
    context: dict[str, Any] = {"values": values, "errors": {}, "next": next_path}
    settings = request.app.state.settings
    try:
        await ratelimit.hit_per_address(request, "register-ip", settings.register_limit_per_ip)
    except RateLimited as limited:
        return too_many(request, "accounts/register.html", context, limited.retry_after)
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            account = await accounts.register(
                db, values["email"], field(form, "password"), values["full_name"]
            )
    except FieldError as error:
        context["errors"] = {error.field: error.message}
        return render_personal(request, "accounts/register.html", context, status_code=422)
    return await signin.finish_signin(request, await current_session(request), account, next_path)


# --- changing the account -------------------------------------------------------------------


async def password_page(request: Request) -> Response:
    session, account = await require_account(request)
    context = {"account": account, "errors": {}}
    return render_personal(request, "accounts/password.html", context, session=session)


async def password_submit(request: Request) -> Response:
    session, account = await require_account(request)
    form = await personal_form(request, session)
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            await accounts.change_password(
                db, account.id or 0, field(form, "current_password"), field(form, "new_password")
            )
    except FieldError as error:
        context = {"account": account, "errors": {error.field: error.message}}
        return render_personal(
            request, "accounts/password.html", context, session=session, status_code=422
        )
    # A privilege change: every other session ends, this one gets a new token.
    await sessions.end_all_sessions(request.app.state.redis, account.id or 0)
    return await signin.finish_signin(request, None, account, "/account?done=password")


async def email_page(request: Request) -> Response:
    session, account = await require_account(request)
    context = {"account": account, "errors": {}, "email": account.email}
    return render_personal(request, "accounts/email.html", context, session=session)


async def email_submit(request: Request) -> Response:
    session, account = await require_account(request)
    form = await personal_form(request, session)
    new_email = field(form, "email", 320)
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            await accounts.change_email(db, account.id or 0, field(form, "password"), new_email)
    except FieldError as error:
        context = {"account": account, "errors": {error.field: error.message}, "email": new_email}
        return render_personal(
            request, "accounts/email.html", context, session=session, status_code=422
        )
    return keep_private(RedirectResponse("/account?done=email", status_code=303))


# --- privacy: export and erase ----------------------------------------------------------------


async def export(request: Request) -> Response:
    _, account = await require_account(request)
    async with transaction(request.app.state.sessionmaker) as db:
        data = await accounts.export_account(db, account.id or 0)
    response = Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="edgecart-account.json"'},
    )
    return keep_private(response)


async def delete_page(request: Request) -> Response:
    session, account = await require_account(request)
    return render_personal(
        request, "accounts/delete.html", {"account": account, "errors": {}}, session=session
    )


async def delete_submit(request: Request) -> Response:
    session, account = await require_account(request)
    form = await personal_form(request, session)
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            await accounts.erase_account(db, account.id or 0, field(form, "password"))
    except FieldError as error:
        context = {"account": account, "errors": {error.field: error.message}}
        return render_personal(
            request, "accounts/delete.html", context, session=session, status_code=422
        )
    await sessions.end_all_sessions(request.app.state.redis, account.id or 0)
    remember(request, None)
    response = render_personal(request, "accounts/deleted.html", {})
    return clear_session_cookie(request, response)


routes = [
    Route("/account", account_home, name="account"),
    Route("/account/login", login_page, methods=["GET"], name="login"),
    Route("/account/login", login_submit, methods=["POST"], name="login_submit"),
    Route("/account/login/code", code_page, methods=["GET"], name="login_code"),
    Route("/account/login/code", code_submit, methods=["POST"], name="login_code_submit"),
    Route("/account/logout", logout, methods=["POST"], name="logout"),
    Route(
        "/account/logout-everywhere", logout_everywhere, methods=["POST"], name="logout_everywhere"
    ),
    Route("/account/register", register_page, methods=["GET"], name="register"),
    Route("/account/register", register_submit, methods=["POST"], name="register_submit"),
    Route("/account/password", password_page, methods=["GET"], name="change_password"),
    Route("/account/password", password_submit, methods=["POST"], name="change_password_submit"),
    Route("/account/email", email_page, methods=["GET"], name="change_email"),
    Route("/account/email", email_submit, methods=["POST"], name="change_email_submit"),
    Route("/account/export", export, methods=["GET"], name="export_account"),
    Route("/account/delete", delete_page, methods=["GET"], name="delete_account"),
    Route("/account/delete", delete_submit, methods=["POST"], name="delete_account_submit"),
]
