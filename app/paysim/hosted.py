"""The hosted payment page (Stripe Checkout's stand-in): card number, expiry, CVC, Pay.

Stripe's documented test cards behave as on Stripe: 4242 4242 4242 4242 succeeds, 4000 0000
0000 0002 is declined (card_declined / generic_decline), 4000 0000 0000 9995 has insufficient
funds, 4000 0000 0000 0069 is expired. A decline is shown on the page, which stays open for
another card; "Back to the shop" leaves through the cancel_url. A plain form: no JavaScript.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from app.paysim import webhooks
from app.paysim.api import expire_if_due, public
from app.paysim.store import Account, Store, new_id, now

SUCCEEDS = "4242424242424242"
DECLINES = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "4000000000000069": ("expired_card", "expired_card", "Your card has expired."),
}
PAGE = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent)), autoescape=select_autoescape(["html"])
).get_template("page.html")


def _money(amount: int, currency: str) -> str:
    return f"{amount // 100}.{amount % 100:02d} {currency.upper()}"


def _render(session: dict[str, Any], status: int = 200, **extra: Any) -> Response:
    is_open = session["status"] == "open"
    context = {
        "amount": _money(session["amount_total"], session["currency"]),
        "description": (session.get("metadata") or {}).get("order_number", ""),
        "session_id": session["id"], "open": is_open, "number": "", "expiry": "",
        "back_url": session["cancel_url"] if is_open else None, "message": "", "problem": False,
    } | extra  # fmt: skip
    if not is_open and not context["message"]:
        context["message"] = {
            "complete": "This payment is complete.", "expired": "This payment page has expired."
        }[session["status"]]  # fmt: skip
    return HTMLResponse(PAGE.render(context), status, headers={"Cache-Control": "no-store"})


def _found(request: Request) -> tuple[dict[str, Any], Account] | None:
    store: Store = request.app.state.store
    session = store.sessions.get(request.path_params["id"])
    if session is None:
        return None
    account = store.accounts[store.owners[session["id"]]]
    expire_if_due(account, session)
    return session, account


async def show(request: Request) -> Response:
    found = _found(request)
    if found is None:
        return HTMLResponse("<h1>No such payment page</h1>", 404)
    return _render(found[0])


def _card_problem(number: str, expiry: str, cvc: str) -> str | None:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return "Your card number is incomplete."
    month, _, year = expiry.replace(" ", "").partition("/")
    if not (month.isdigit() and year.isdigit() and 1 <= int(month) <= 12 and len(year) == 2):
        return "Your card's expiration date is incomplete."
    today = datetime.now(UTC)
    if (2000 + int(year), int(month)) < (today.year, today.month):
        return "Your card's expiration year is in the past."
    if not cvc.isdigit() or len(cvc) not in {3, 4}:
        return "Your card's security code is incomplete."
    if number != SUCCEEDS and number not in DECLINES:
        return "Your card number is incorrect. Use a test card such as 4242 4242 4242 4242."
    return None


def _intent_for(store: Store, account: Account, session: dict[str, Any]) -> dict[str, Any]:
    """The session's PaymentIntent, made at the first try (as Checkout does)."""
    if session["payment_intent"]:
        return store.intents[session["payment_intent"]]
    data = session["_intent_data"]
    intent = {
        "id": new_id("pi"), "object": "payment_intent", "amount": session["amount_total"],
        "amount_capturable": 0, "amount_received": 0, "currency": session["currency"],
        "capture_method": data["capture_method"], "status": "requires_payment_method",
        "metadata": data["metadata"], "last_payment_error": None, "latest_charge": None,
        "created": now(), "livemode": False,
    }  # fmt: skip
    store.intents[intent["id"]] = intent
    store.owners[intent["id"]] = account.api_key
    session["payment_intent"] = intent["id"]
    return intent


async def pay(request: Request) -> Response:
    found = _found(request)
    if found is None:
        return HTMLResponse("<h1>No such payment page</h1>", 404)
    session, account = found
    if session["status"] != "open":
        return _render(session, 409)
    form = await request.form()
    number = "".join(str(form.get("card_number", "")).split())
    expiry, cvc = str(form.get("card_expiry", "")), str(form.get("card_cvc", "")).strip()
    problem = _card_problem(number, expiry, cvc)
    if problem:
        return _render(session, 422, message=problem, problem=True, number=number, expiry=expiry)
    store: Store = request.app.state.store
    intent = _intent_for(store, account, session)
    if number in DECLINES:
        code, decline, message = DECLINES[number]
        intent["last_payment_error"] = {
            "type": "card_error", "code": code, "decline_code": decline, "message": message,
            "charge": new_id("ch"),
        }  # fmt: skip
        webhooks.emit(account, "payment_intent.payment_failed", public(intent))
        return _render(session, 402, message=message, problem=True)
    manual = intent["capture_method"] == "manual"
    intent |= {"last_payment_error": None, "latest_charge": new_id("ch"),
               "status": "requires_capture" if manual else "succeeded",
               "amount_capturable": 0 if not manual else intent["amount"],
               "amount_received": 0 if manual else intent["amount"]}  # fmt: skip
    session |= {"status": "complete", "payment_status": "unpaid" if manual else "paid"}
    kind = "payment_intent.amount_capturable_updated" if manual else "payment_intent.succeeded"
    webhooks.emit(account, kind, public(intent))
    webhooks.emit(account, "checkout.session.completed", public(session))
    if account.faults.close_tab:
        return _render(session, message="Payment complete. You may close this tab.")
    target = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])
    return RedirectResponse(target, 303)


routes = [
    Route("/c/pay/{id}", show, methods=["GET"]),
    Route("/c/pay/{id}", pay, methods=["POST"]),
]
