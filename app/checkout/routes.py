"""The checkout pages: details (e-mail and address), shipping, review (voucher, payment,
place-order). Plain forms posting and redirecting (303), so it all works without JavaScript;
every refusal re-renders its step with status 422 and the field's message.

The pages are personal (`private, no-store`) and their forms carry the session's CSRF token.
What the shopper entered lives in their session (app/checkout/state.py) between steps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.accounts import addresses, sessions
from app.accounts import service as accounts
from app.accounts.addresses import ADDRESS_FIELDS
from app.accounts.models import UserAccount
from app.accounts.sessions import Session
from app.accounts.validation import COUNTRIES, FieldError
from app.checkout import service as checkout
from app.checkout.service import CheckoutError, ItemsUnavailable, ShippingRefused
from app.checkout.state import SESSION_KEY, CheckoutState
from app.db import transaction
from app.orders.vouchers import VoucherRefused
from app.payments import failover
from app.payments import service as payments
from app.payments.errors import PaymentError
from app.web.caching import keep_private
from app.web.forms import field, personal_form, render_personal
from app.web.params import whole_number
from app.web.security import allow_payment_page
from app.web.sessions import CART_TOKEN_KEY, ORDERS_KEY, current_session, placed_order_numbers

KEEP_ORDERS = 20


@dataclass
class Visit:
    session: Session
    state: CheckoutState
    cart_token: str | None
    account: UserAccount | None


async def _visit(request: Request) -> Visit | None:
    session = await current_session(request)
    if session is None or not session.data.get(CART_TOKEN_KEY):
        return None
    account = None
    if session.account_id is not None:
        async with transaction(request.app.state.sessionmaker) as db:
            account = await accounts.get_account(db, session.account_id)
    state = CheckoutState.load(session.data.get(SESSION_KEY))
    return Visit(session, state, session.data.get(CART_TOKEN_KEY), account)


async def _save(request: Request, visit: Visit) -> None:
    visit.session.data[SESSION_KEY] = visit.state.dump()
    await sessions.save_session(request.app.state.redis, visit.session)


def _go(path: str) -> Response:
    return keep_private(RedirectResponse(path, status_code=303))


def _page(
    request: Request, visit: Visit, template: str, context: dict[str, Any], status: int = 200
) -> Response:
    context |= {"state": visit.state, "account": visit.account, "title": "Checkout"}
    return render_personal(request, template, context, session=visit.session, status_code=status)


# --- step 1: e-mail and shipping address ----------------------------------------------------


async def _details(
    request: Request, visit: Visit, values: dict[str, str], errors: dict[str, str]
) -> Response:
    saved = []
    if visit.account is not None and visit.account.id is not None:
        async with transaction(request.app.state.sessionmaker) as db:
            saved = await addresses.list_addresses(db, visit.account.id)
    context = {"values": values, "errors": errors, "saved": saved, "countries": COUNTRIES}
    return _page(request, visit, "checkout/details.html", context, 422 if errors else 200)


async def details_page(request: Request) -> Response:
    visit = await _visit(request)
    if visit is None:
        return _go("/cart")
    email = visit.state.email or (visit.account.email if visit.account else "")
    values = {"country": "DE", **visit.state.address, "email": email}
    return await _details(request, visit, values, {})


async def details_submit(request: Request) -> Response:
    visit = await _visit(request)
    if visit is None:
        return _go("/cart")
    form = await personal_form(request, visit.session)
    values = {name: field(form, name) for name in (*ADDRESS_FIELDS, "email")}
    try:
        address = await _saved_address(request, visit, field(form, "saved_address", 12))
        email, cleaned = checkout.clean_details(values["email"], address or values)
    except FieldError as error:
        return await _details(request, visit, values, {error.field: error.message})
    visit.state.email, visit.state.address = email, cleaned
    await _save(request, visit)
    return _go("/checkout/shipping")


async def _saved_address(request: Request, visit: Visit, raw: str) -> dict[str, str] | None:
    """The fields of the signed-in shopper's saved address chosen by id, if one was chosen."""
    address_id = whole_number(raw, 1, 2**31 - 1)
    if address_id is None or visit.account is None or visit.account.id is None:
        return None
    async with transaction(request.app.state.sessionmaker) as db:
        found = await addresses.get_address(db, visit.account.id, address_id)
    if found is None:
        raise FieldError("saved_address", "Please choose one of your addresses.")
    return {name: str(getattr(found, name)) for name in ADDRESS_FIELDS}


# --- step 2: shipping method ----------------------------------------------------------------


async def _shipping(request: Request, visit: Visit, errors: dict[str, str]) -> Response:
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            choice = await checkout.shipping_options(db, visit.cart_token)
    except CheckoutError:
        return _go("/cart")
    context = {"choice": choice, "errors": errors}
    return _page(request, visit, "checkout/shipping.html", context, 422 if errors else 200)


async def shipping_page(request: Request) -> Response:
    visit = await _visit(request)
    if visit is None:
        return _go("/cart")
    if not visit.state.has_details:
        return _go("/checkout")
    return await _shipping(request, visit, {})


async def shipping_submit(request: Request) -> Response:
    visit = await _visit(request)
    if visit is None or not visit.state.has_details:
        return _go("/checkout")
    method = field(await personal_form(request, visit.session), "shipping", 20)
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            visit.state.shipping = await checkout.check_shipping(db, visit.cart_token, method)
    except ShippingRefused as refused:
        return await _shipping(request, visit, {"shipping": refused.message})
    except CheckoutError:
        return _go("/cart")
    await _save(request, visit)
    return _go("/checkout/review")


# --- step 3: review, voucher, place the order ------------------------------------------------


async def _review(request: Request, visit: Visit, errors: dict[str, str]) -> Response:
    if not visit.state.complete:
        return _go("/checkout/shipping" if visit.state.has_details else "/checkout")
    settings = request.app.state.settings
    try:
        async with transaction(request.app.state.sessionmaker) as db:
            priced = await checkout.price_checkout(
                db, visit.cart_token, visit.state, settings, datetime.now(UTC)
            )
    except ShippingRefused as refused:  # the cart grew too heavy for the method chosen
        return await _shipping(request, visit, {"shipping": refused.message})
    except CheckoutError:
        return _go("/cart")
    if not visit.state.key:
        visit.state.ensure_key()
        await _save(request, visit)
    if priced.voucher_problem and "voucher" not in errors:
        errors = {**errors, "voucher": priced.voucher_problem}
    choice = await failover.payment_choice(request.app.state.payment_gateway)
    context = {"priced": priced, "quote": priced.quote, "errors": errors, "payment": choice,
               "country": COUNTRIES[visit.state.address["country"]].name}  # fmt: skip
    response = _page(request, visit, "checkout/review.html", context, 422 if errors else 200)
    return allow_payment_page(response, settings)


async def review_page(request: Request) -> Response:
    visit = await _visit(request)
    return _go("/cart") if visit is None else await _review(request, visit, {})


async def voucher_submit(request: Request) -> Response:
    visit = await _visit(request)
    if visit is None:
        return _go("/cart")
    form = await personal_form(request, visit.session)
    if form.get("remove"):
        visit.state.voucher = ""
    else:
        try:
            async with transaction(request.app.state.sessionmaker) as db:
                visit.state.voucher = await checkout.check_voucher_for_cart(
                    db, visit.cart_token, field(form, "code", 60), datetime.now(UTC)
                )
        except VoucherRefused as refused:
            return await _review(request, visit, {"voucher": refused.message})
        except CheckoutError:
            return _go("/cart")
    await _save(request, visit)
    return _go("/checkout/review")


async def place_order(request: Request) -> Response:
    visit = await _visit(request)
    if visit is None:
        return _go("/cart")
    form = await personal_form(request, visit.session)
    key, method = field(form, "key", 64), field(form, "payment_method", 20)
    if len(key) < 16:
        return await _review(request, visit, {"form": "Please place the order from this page."})
    if method not in payments.method_codes():
        return await _review(request, visit, {"payment": "Please choose how to pay."})
    if method == payments.CARD:  # the card provider may have gone down since the review
        notice = await failover.card_notice(request.app.state.payment_gateway)
        if notice:
            return await _review(request, visit, {"payment": notice})
    try:
        settings = request.app.state.settings
        async with transaction(request.app.state.sessionmaker) as db:
            placed = await checkout.place_order(
                db, cart_token=visit.cart_token, state=visit.state, key=key,
                expected_total_minor=whole_number(field(form, "total", 12), 0, 10**11),
                account_id=visit.session.account_id, settings=settings,
                now=datetime.now(UTC), payment_method=method,
            )  # fmt: skip
    except ItemsUnavailable as unavailable:
        context = {"problems": unavailable.problems}
        return _page(request, visit, "checkout/unavailable.html", context, 422)
    except (CheckoutError, VoucherRefused) as refused:
        where = "voucher" if isinstance(refused, VoucherRefused) else "form"
        return await _review(request, visit, {where: refused.message})
    number = placed.order.number
    await _remember_order(request, visit, number)
    if method != payments.CARD or placed.order.status != "pending_payment":
        return _go(f"/orders/{number}")
    try:
        started = await payments.start_payment(
            request.app.state.sessionmaker, request.app.state.payment_gateway, settings, number,
            datetime.now(UTC),
        )  # fmt: skip
    except PaymentError as error:  # the order stands; its page explains and offers "Pay now"
        return _go(f"/orders/{number}?payment_error={error.code}")
    return _go(started.redirect_url or f"/orders/{number}")


async def _remember_order(request: Request, visit: Visit, number: str) -> None:
    """The guest may see this order from this session; the next checkout starts afresh."""
    numbers = placed_order_numbers(visit.session)
    visit.session.data[ORDERS_KEY] = json.dumps([number, *numbers][:KEEP_ORDERS])
    visit.session.data.pop(SESSION_KEY, None)
    await sessions.save_session(request.app.state.redis, visit.session)


routes = [
    Route("/checkout", details_page, methods=["GET"], name="checkout"),
    Route("/checkout", details_submit, methods=["POST"], name="checkout_details"),
    Route("/checkout/shipping", shipping_page, methods=["GET"], name="checkout_shipping"),
    Route("/checkout/shipping", shipping_submit, methods=["POST"], name="choose_shipping"),
    Route("/checkout/review", review_page, methods=["GET"], name="checkout_review"),
    Route("/checkout/voucher", voucher_submit, methods=["POST"], name="apply_voucher"),
    Route("/checkout/place-order", place_order, methods=["POST"], name="place_order"),
]
