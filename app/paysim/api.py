"""The Stripe API subset: Checkout Sessions, PaymentIntents (capture, cancel), refunds.

Every call: Bearer auth against the accounts, then the account's faults (latency, a hang, a
5xx), then for POSTs the Idempotency-Key: the same key with the same parameters gets the same
answer again (`Idempotent-Replayed: true`), with other parameters an idempotency_error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.paysim import webhooks
from app.paysim.forms import parse_nested
from app.paysim.store import Account, Store, new_id, now

Handler = Callable[[Request, Account, dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]


def error(status: int, kind: str, message: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": kind, "message": message, **extra}}


def missing(kind: str, object_id: str, param: str) -> tuple[int, dict[str, Any]]:
    return error(404, "invalid_request_error", f"No such {kind}: '{object_id}'",
                 code="resource_missing", param=param)  # fmt: skip


class _Missing(Exception):
    """An object the request names does not exist for this account: Stripe's 404."""

    def __init__(self, kind: str, object_id: str, param: str) -> None:
        super().__init__(kind)
        self.answer = missing(kind, object_id, param)


def _owned(
    request: Request, account: Account, table: str, object_id: str, kind: str, param: str
) -> dict[str, Any]:
    """The account's object `object_id` from the store's `table` ("sessions", "intents")."""
    store = _store(request)
    found = store.owned(getattr(store, table), object_id, account)
    if found is None:
        raise _Missing(kind, object_id, param)
    return found


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _account(request: Request) -> Account | None:
    auth = request.headers.get("authorization", "")
    key = auth[7:] if auth.lower().startswith("bearer ") else ""
    return _store(request).accounts.get(key)


def api(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        account = _account(request)
        if account is None:
            status, body = error(401, "invalid_request_error", "Invalid API Key provided.")
            return JSONResponse(body, status)
        faults = account.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.hang_next > 0:
            faults.hang_next -= 1
            await asyncio.sleep(faults.hang_seconds)
        if faults.fail_next > 0:
            faults.fail_next -= 1
            status, body = error(faults.fail_status, "api_error",
                                 "An unexpected error occurred (injected).")  # fmt: skip
            return JSONResponse(body, status)
        raw = (await request.body()).decode() if request.method == "POST" else request.url.query
        try:
            params = parse_nested(parse_qsl(raw, keep_blank_values=True))
        except ValueError as problem:
            status, body = error(400, "invalid_request_error", str(problem))
            return JSONResponse(body, status)
        key = request.headers.get("idempotency-key") if request.method == "POST" else None
        asked = f"{request.method} {request.url.path} {sorted(parse_qsl(raw))}"
        if key and key in account.replies:
            first, status, body = account.replies[key]
            if first != asked:
                status, body = error(400, "idempotency_error", "Keys for idempotent requests "
                                     "can only be used with the same parameters they were "
                                     "first used with.")  # fmt: skip
                return JSONResponse(body, status)
            return JSONResponse(body, status, headers={"Idempotent-Replayed": "true"})
        try:
            status, body = await handler(request, account, params)
        except _Missing as gone:
            status, body = gone.answer
        if key:
            account.replies[key] = (asked, status, body)
        return JSONResponse(body, status, headers={"Request-Id": new_id("req")})

    return endpoint


def _int(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _expanded(store: Store, session: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    expand = params.get("expand") or []
    shown = dict(session)
    if "payment_intent" in expand and session.get("payment_intent"):
        shown["payment_intent"] = public(store.intents[session["payment_intent"]])
    return shown


async def create_session(
    request: Request, account: Account, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    items = params.get("line_items")
    if params.get("mode") != "payment" or not isinstance(items, list) or not items:
        return error(400, "invalid_request_error", "mode=payment and line_items are required.",
                     param="line_items")  # fmt: skip
    total, currency = 0, ""
    for item in items:
        price = item.get("price_data", {}) if isinstance(item, dict) else {}
        amount, quantity = _int(price, "unit_amount"), _int(item, "quantity") or 1
        currency = str(price.get("currency", "")).lower()
        if amount is None or len(currency) != 3:
            return error(400, "invalid_request_error", "Each line item needs price_data with "
                         "currency and unit_amount.", param="line_items")  # fmt: skip
        total += amount * quantity
    for url in ("success_url", "cancel_url"):
        if not str(params.get(url, "")).startswith(("http://", "https://")):
            return error(400, "invalid_request_error", f"Not a valid URL: {url}", param=url)
    expires_at = _int(params, "expires_at") or now() + 24 * 3600
    if not now() + 1800 - 60 <= expires_at <= now() + 24 * 3600:
        return error(400, "invalid_request_error", "expires_at must be 30 minutes to 24 hours "
                     "from now.", param="expires_at")  # fmt: skip
    intent_data = params.get("payment_intent_data") or {}
    capture = intent_data.get("capture_method", "automatic")
    if capture not in {"automatic", "automatic_async", "manual"}:
        return error(400, "invalid_request_error", "Invalid capture_method.",
                     param="payment_intent_data[capture_method]")  # fmt: skip
    session_id = new_id("cs")
    base = str(request.base_url).rstrip("/")
    session = {
        "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
        "payment_status": "unpaid", "amount_total": total, "amount_subtotal": total,
        "currency": currency, "client_reference_id": params.get("client_reference_id"),
        "customer_email": params.get("customer_email"), "metadata": params.get("metadata") or {},
        "success_url": params["success_url"], "cancel_url": params["cancel_url"],
        "expires_at": expires_at, "created": now(), "livemode": False, "payment_intent": None,
        "url": f"{base}/c/pay/{session_id}",
        "_intent_data": {"capture_method": capture, "metadata": intent_data.get("metadata") or {}},
    }  # fmt: skip
    store = _store(request)
    store.sessions[session_id] = session
    store.owners[session_id] = account.api_key
    return 200, public(session)


def public(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if not key.startswith("_")}


async def retrieve_session(
    request: Request, account: Account, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    session = _owned(request, account, "sessions", request.path_params["id"],
                     "checkout.session", "session")  # fmt: skip
    expire_if_due(account, session)
    return 200, public(_expanded(_store(request), session, params))


def expire_if_due(account: Account, session: dict[str, Any]) -> None:
    if session["status"] == "open" and session["expires_at"] <= now():
        session["status"] = "expired"
        webhooks.emit(account, "checkout.session.expired", public(session))


async def expire_session(
    request: Request, account: Account, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    session = _owned(request, account, "sessions", request.path_params["id"],
                     "checkout.session", "session")  # fmt: skip
    expire_if_due(account, session)
    if session["status"] != "open":
        return error(400, "invalid_request_error", "Only Checkout Sessions with a status of "
                     f"`open` can be expired. This one is `{session['status']}`.")  # fmt: skip
    session["status"] = "expired"
    webhooks.emit(account, "checkout.session.expired", public(session))
    return 200, public(session)


async def retrieve_intent(
    request: Request, account: Account, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    intent = _owned(request, account, "intents", request.path_params["id"],
                    "payment_intent", "intent")  # fmt: skip
    return 200, public(intent)


def _unexpected(intent: dict[str, Any], action: str) -> tuple[int, dict[str, Any]]:
    return error(400, "invalid_request_error", f"This PaymentIntent could not be {action} "
                 f"because it has a status of {intent['status']}.",
                 code="payment_intent_unexpected_state")  # fmt: skip


async def capture_intent(
    request: Request, account: Account, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    intent = _owned(request, account, "intents", request.path_params["id"],
                    "payment_intent", "intent")  # fmt: skip
    if intent["status"] != "requires_capture":
        return _unexpected(intent, "captured")
    amount = _int(params, "amount_to_capture") or intent["amount"]
    if amount > intent["amount_capturable"]:
        return error(400, "invalid_request_error", "amount_to_capture is larger than the "
                     "amount capturable.", param="amount_to_capture")  # fmt: skip
    intent |= {"status": "succeeded", "amount_received": amount, "amount_capturable": 0}
    webhooks.emit(account, "payment_intent.succeeded", public(intent))
    return 200, public(intent)


async def cancel_intent(
    request: Request, account: Account, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    intent = _owned(request, account, "intents", request.path_params["id"],
                    "payment_intent", "intent")  # fmt: skip
    if intent["status"] not in {"requires_payment_method", "requires_capture"}:
        return _unexpected(intent, "canceled")
    intent |= {"status": "canceled", "amount_capturable": 0, "canceled_at": now()}
    webhooks.emit(account, "payment_intent.canceled", public(intent))
    return 200, public(intent)


async def create_refund(
    request: Request, account: Account, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    store = _store(request)
    intent = _owned(request, account, "intents", str(params.get("payment_intent", "")),
                    "payment_intent", "payment_intent")  # fmt: skip
    if intent["status"] != "succeeded":
        return _unexpected(intent, "refunded")
    left = intent["amount_received"] - intent.get("_refunded", 0)
    amount = _int(params, "amount") or left
    if amount <= 0 or amount > left:
        return error(400, "invalid_request_error", f"Refund amount ({amount}) is greater than "
                     f"unrefunded amount on charge ({left}).", code="amount_too_large",
                     param="amount")  # fmt: skip
    intent["_refunded"] = intent.get("_refunded", 0) + amount
    refund = {
        "id": new_id("re"), "object": "refund", "amount": amount, "currency": intent["currency"],
        "payment_intent": intent["id"], "charge": intent.get("latest_charge"),
        "status": "succeeded",
        "created": now(), "metadata": params.get("metadata") or {},
    }  # fmt: skip
    store.refunds[refund["id"]] = refund
    store.owners[refund["id"]] = account.api_key
    webhooks.emit(account, "refund.created", refund)
    return 200, refund


routes = [
    Route("/v1/checkout/sessions", api(create_session), methods=["POST"]),
    Route("/v1/checkout/sessions/{id}", api(retrieve_session), methods=["GET"]),
    Route("/v1/checkout/sessions/{id}/expire", api(expire_session), methods=["POST"]),
    Route("/v1/payment_intents/{id}", api(retrieve_intent), methods=["GET"]),
    Route("/v1/payment_intents/{id}/capture", api(capture_intent), methods=["POST"]),
    Route("/v1/payment_intents/{id}/cancel", api(cancel_intent), methods=["POST"]),
    Route("/v1/refunds", api(create_refund), methods=["POST"]),
]
