"""Events and their delivery: signed as Stripe signs them, sent as the account's faults say."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any

import httpx

from app.paysim.store import Account, Event, new_id, now

log = logging.getLogger("edgecart.paysim")
# Stripe retries a failed delivery for up to three days with exponential backoff; locally the
# same shape, compressed: 0.5 s, 1 s, 2 s, 4 s, then every 8 s, 10 tries (about 50 s) in all.
RETRIES = 10
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0


def backoff(attempt: int) -> float:
    """Seconds to wait after failed try number `attempt` (0-based)."""
    return min(FIRST_BACKOFF_SECONDS * float(2**attempt), MAX_BACKOFF_SECONDS)


_tasks: set[asyncio.Task[None]] = set()


def sign(secret: str, payload: str, timestamp: int) -> str:
    """The Stripe-Signature header: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def emit(account: Account, event_type: str, obj: dict[str, Any]) -> Event:
    """Record an event about `obj` (a snapshot now) and send it unless held or dropped."""
    event_id = new_id("evt")
    body = {
        "id": event_id, "object": "event", "api_version": "2026-01-01", "created": now(),
        "livemode": False, "pending_webhooks": 1, "type": event_type,
        "request": {"id": None, "idempotency_key": None}, "data": {"object": obj},
    }  # fmt: skip
    event = Event(event_id, event_type, json.dumps(body))
    account.events.append(event)
    mode = account.faults.webhooks
    if mode == "hold":
        event.held = True
    elif mode != "drop":
        times = 2 if mode == "duplicate" else 1
        delay = account.faults.webhook_delay_ms / 1000 if mode == "delay" else 0
        _spawn(account, event, times, delay)
    return event


def flush(account: Account) -> int:
    """Send the held events, newest first (out of order); how many."""
    held = [event for event in account.events if event.held]
    for event in reversed(held):
        event.held = False
        _spawn(account, event, 1, 0)
    return len(held)


def send_again(account: Account, event: Event) -> None:
    _spawn(account, event, 1, 0)


def _spawn(account: Account, event: Event, times: int, delay: float) -> None:
    if not account.webhook_url:
        return  # the account has no endpoint: tests read the events instead
    task = asyncio.get_running_loop().create_task(_deliver(account, event, times, delay))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _deliver(account: Account, event: Event, times: int, delay: float) -> None:
    if delay:
        await asyncio.sleep(delay)
    async with httpx.AsyncClient(timeout=10) as client:
        for _ in range(times):
            for attempt in range(RETRIES):
                signature = sign(account.webhook_secret, event.payload, now())
                try:
                    response = await client.post(
                        account.webhook_url or "", content=event.payload,
                        headers={"Content-Type": "application/json; charset=utf-8",
                                 "Stripe-Signature": signature},
                    )  # fmt: skip
                    event.deliveries.append(response.status_code)
                    if response.status_code < 300:
                        break
                except httpx.HTTPError as error:
                    log.warning("webhook %s not delivered: %s", event.id, error)
                    event.deliveries.append(0)
                if attempt < RETRIES - 1:
                    await asyncio.sleep(backoff(attempt))
