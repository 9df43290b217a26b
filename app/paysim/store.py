"""The simulator's memory: accounts (an API key, its webhook endpoint and secret, its faults),
Checkout Sessions, PaymentIntents, refunds, events and the idempotency cache. One process,
one event loop: no locks needed. A restart forgets everything, as a test double may."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any


def new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


@dataclass
class Faults:
    """What goes wrong on purpose (POST /_sim/faults). Counters count down per API call."""

    latency_ms: int = 0  # added to every API call
    hang_next: int = 0  # the next N API calls hang for hang_seconds (longer than any timeout)
    hang_seconds: float = 120.0
    fail_next: int = 0  # the next N API calls answer fail_status with an api_error
    fail_status: int = 500
    # Webhooks: normal, duplicate (each sent twice), delay (webhook_delay_ms first), hold
    # (kept until POST /_sim/webhooks/flush, then sent newest first: out of order), drop.
    webhooks: str = "normal"
    webhook_delay_ms: int = 0
    close_tab: bool = False  # after paying, the hosted page does not redirect back

    def update(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            if not hasattr(self, name):
                raise ValueError(f"unknown fault {name!r}")
            kind = type(getattr(self, name))
            if kind is bool and not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
            if kind in {int, float} and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ValueError(f"{name} must be a number")
            if name == "webhooks" and value not in {"normal", "duplicate", "delay", "hold", "drop"}:
                raise ValueError("webhooks must be normal, duplicate, delay, hold or drop")
            setattr(self, name, kind(value))


@dataclass
class Event:
    id: str
    type: str
    payload: str  # the exact body sent
    deliveries: list[int] = field(default_factory=list)  # HTTP status per try (0: no answer)
    held: bool = False


@dataclass
class Account:
    api_key: str
    webhook_secret: str
    webhook_url: str | None
    faults: Faults = field(default_factory=Faults)
    events: list[Event] = field(default_factory=list)
    # Idempotency-Key → (what was asked, status, body): a repeat gets the same answer.
    replies: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)


@dataclass
class Store:
    accounts: dict[str, Account] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # object id → api key

    def add_account(self, api_key: str, webhook_secret: str, webhook_url: str | None) -> Account:
        account = Account(api_key, webhook_secret, webhook_url)
        self.accounts[api_key] = account
        return account

    def owned(
        self, kind: dict[str, dict[str, Any]], object_id: str, account: Account
    ) -> dict[str, Any] | None:
        found = kind.get(object_id)
        return (
            found if found is not None and self.owners.get(object_id) == account.api_key else None
        )


def now() -> int:
    return int(time.time())
