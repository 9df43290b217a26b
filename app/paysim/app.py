"""The simulator's ASGI app: the Stripe API subset, the hosted page, and the control endpoints
tests use to shape it (/_sim/…).

Control endpoints act on the account named by the Bearer key (the default account without
one), so tests that use accounts of their own never see each other's faults or events:

- POST /_sim/accounts {"api_key", "webhook_secret", "webhook_url"?}: add or replace an account
- POST /_sim/faults {…}: set faults (see store.Faults); DELETE /_sim/faults: none again
- GET /_sim/events: every event with its exact body, and a fresh Stripe-Signature for it
- POST /_sim/events/{id}/send: deliver one again; POST /_sim/webhooks/flush: send held events
"""

from __future__ import annotations

import os
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.paysim import api, hosted, webhooks
from app.paysim.store import Account, Faults, Store, now


def _account(request: Request) -> Account | None:
    store: Store = request.app.state.store
    auth = request.headers.get("authorization", "")
    key = auth[7:] if auth.lower().startswith("bearer ") else request.app.state.default_key
    return store.accounts.get(key)


def _refuse(status: int, message: str) -> Response:
    return JSONResponse({"error": {"type": "invalid_request_error", "message": message}}, status)


async def _json(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def add_account(request: Request) -> Response:
    body = await _json(request)
    if body is None or not all(isinstance(body.get(k), str) and body[k]
                               for k in ("api_key", "webhook_secret")):  # fmt: skip
        return _refuse(400, "api_key and webhook_secret are required strings")
    url = body.get("webhook_url")
    store: Store = request.app.state.store
    store.add_account(
        body["api_key"], body["webhook_secret"], url if isinstance(url, str) else None
    )
    return JSONResponse({"api_key": body["api_key"], "webhook_url": url})


async def set_faults(request: Request) -> Response:
    account, body = _account(request), await _json(request)
    if account is None:
        return _refuse(401, "Invalid API Key provided.")
    if body is None:
        return _refuse(400, "send the faults as a JSON object")
    try:
        account.faults.update(body)
    except ValueError as problem:
        return _refuse(400, str(problem))
    return JSONResponse(account.faults.__dict__)


async def clear_faults(request: Request) -> Response:
    account = _account(request)
    if account is None:
        return _refuse(401, "Invalid API Key provided.")
    account.faults = Faults()
    return JSONResponse(account.faults.__dict__)


async def list_events(request: Request) -> Response:
    account = _account(request)
    if account is None:
        return _refuse(401, "Invalid API Key provided.")
    return JSONResponse([
        {"id": event.id, "type": event.type, "payload": event.payload, "held": event.held,
         "deliveries": event.deliveries,
         "signature": webhooks.sign(account.webhook_secret, event.payload, now())}
        for event in account.events
    ])  # fmt: skip


async def send_event(request: Request) -> Response:
    account = _account(request)
    if account is None:
        return _refuse(401, "Invalid API Key provided.")
    for event in account.events:
        if event.id == request.path_params["id"]:
            webhooks.send_again(account, event)
            return JSONResponse({"id": event.id, "sent": bool(account.webhook_url)})
    return _refuse(404, "No such event")


async def flush_events(request: Request) -> Response:
    account = _account(request)
    if account is None:
        return _refuse(401, "Invalid API Key provided.")
    return JSONResponse({"sent": webhooks.flush(account)})


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


def create_simulator(api_key: str, webhook_secret: str, webhook_url: str | None) -> Starlette:
    app = Starlette(
        routes=[
            *api.routes,
            *hosted.routes,
            Route("/_sim/health", health, methods=["GET"]),
            Route("/_sim/accounts", add_account, methods=["POST"]),
            Route("/_sim/faults", set_faults, methods=["POST"]),
            Route("/_sim/faults", clear_faults, methods=["DELETE"]),
            Route("/_sim/events", list_events, methods=["GET"]),
            Route("/_sim/events/{id}/send", send_event, methods=["POST"]),
            Route("/_sim/webhooks/flush", flush_events, methods=["POST"]),
        ]
    )
    app.state.store = Store()
    app.state.store.add_account(api_key, webhook_secret, webhook_url)
    app.state.default_key = api_key
    return app


def from_env() -> Starlette:
    """Configured by PAYSIM_API_KEY, PAYSIM_WEBHOOK_SECRET, PAYSIM_WEBHOOK_URL (the defaults
    are the shop's development defaults)."""
    from app.settings import DEV_STRIPE_SECRET_KEY, DEV_STRIPE_WEBHOOK_SECRET

    return create_simulator(
        os.environ.get("PAYSIM_API_KEY", DEV_STRIPE_SECRET_KEY),
        os.environ.get("PAYSIM_WEBHOOK_SECRET", DEV_STRIPE_WEBHOOK_SECRET),
        os.environ.get("PAYSIM_WEBHOOK_URL") or None,
    )
