"""Payment endpoints: "Pay now" for an order, the return from the hosted payment page, and the
provider's webhook. Plain form posts and redirects (303), no JavaScript needed.

The webhook is exempt from the CSRF checks (app/web/csrf.py): its signature is its proof.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from app.accounts import service as accounts
from app.db import transaction
from app.orders import service as orders
from app.payments import service as payments
from app.payments import transfers
from app.payments.errors import PaymentError
from app.payments.gateways.base import WebhookRejected
from app.web.caching import keep_private
from app.web.forms import field, personal_form
from app.web.sessions import current_session, placed_order_numbers

log = logging.getLogger("edgecart.payments")
MAX_WEBHOOK_BYTES = 256 * 1024


def _go(path: str) -> Response:
    return keep_private(RedirectResponse(path, status_code=303))


async def _may_pay(request: Request, number: str, key: str) -> bool:
    """Whoever may see the order may pay it: owner, guest of this session, signed-link holder."""
    session = await current_session(request)
    numbers = placed_order_numbers(session)
    async with transaction(request.app.state.sessionmaker) as db:
        account = None
        if session is not None and session.account_id is not None:
            account = await accounts.get_account(db, session.account_id)
        order = await orders.get_order(db, number)
        secret = str(request.app.state.settings.secret_key)
        return order is not None and orders.may_view(
            order, account=account, guest_numbers=numbers, token=key, secret=secret
        )


async def pay_order(request: Request) -> Response:
    number = request.path_params["number"]
    session = await current_session(request)
    form = await personal_form(request, session) if session else await request.form()
    key = field(form, "key", 100)
    if not await _may_pay(request, number, key):
        raise HTTPException(404)
    back = f"?{urlencode({'key': key})}" if key else ""
    if field(form, "method", 20) == payments.BANK_TRANSFER:
        return await _switch_to_transfer(request, number, key, back)
    try:
        started = await payments.start_payment(
            request.app.state.sessionmaker, request.app.state.payment_gateway,
            request.app.state.settings, number, datetime.now(UTC), return_query=back,
        )  # fmt: skip
    except PaymentError as error:
        query = urlencode({"payment_error": error.code, **({"key": key} if key else {})})
        return _go(f"/orders/{number}?{query}")
    return _go(started.redirect_url or f"/orders/{number}{back}")


async def _switch_to_transfer(request: Request, number: str, key: str, back: str) -> Response:
    """The order page's "Pay by bank transfer instead": it then shows the instructions."""
    try:
        await transfers.switch_to_bank_transfer(
            request.app.state.sessionmaker, request.app.state.payment_gateway,
            request.app.state.settings, number, datetime.now(UTC),
        )  # fmt: skip
    except PaymentError as error:
        query = urlencode({"payment_error": error.code, **({"key": key} if key else {})})
        return _go(f"/orders/{number}?{query}")
    return _go(f"/orders/{number}{back}")


async def payment_return(request: Request) -> Response:
    if request.path_params["payment_id"] >= 2**63:
        raise HTTPException(404)
    try:
        number = await payments.return_from_provider(
            request.app.state.sessionmaker, request.app.state.payment_gateway,
            request.app.state.settings, request.path_params["payment_id"],
        )  # fmt: skip
    except PaymentError:
        raise HTTPException(404) from None
    key = request.query_params.get("key", "")[:100]
    return _go(f"/orders/{number}" + (f"?{urlencode({'key': key})}" if key else ""))


async def stripe_webhook(request: Request) -> Response:
    payload = await request.body()
    if len(payload) > MAX_WEBHOOK_BYTES:
        return JSONResponse({"code": "too_large", "message": "The body is too large."}, 413)
    try:
        outcome = await payments.receive_webhook(
            request.app.state.sessionmaker, request.app.state.payment_gateway,
            request.app.state.settings, payload, request.headers.get("stripe-signature", ""),
        )  # fmt: skip
    except WebhookRejected as rejected:
        client = request.client.host if request.client else "?"
        log.warning("webhook rejected (%s) from %s", rejected.code, client)
        message = "The webhook signature or body is not valid."
        return JSONResponse({"code": rejected.code, "message": message}, 400)
    return JSONResponse({"received": True, "outcome": outcome})


routes = [
    Route("/orders/{number}/pay", pay_order, methods=["POST"], name="pay_order"),
    Route("/payments/{payment_id:int}/return", payment_return, methods=["GET"],
          name="payment_return"),
    Route("/payments/webhooks/stripe", stripe_webhook, methods=["POST"], name="stripe_webhook"),
]  # fmt: skip
