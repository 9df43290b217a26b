"""What a shopper has told the checkout so far, kept as one JSON string in their session."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field

SESSION_KEY = "checkout"


@dataclass
class CheckoutState:
    email: str = ""
    address: dict[str, str] = field(default_factory=dict)
    shipping: str = ""
    voucher: str = ""
    # The idempotency key of the place-order form: made when the review step first renders,
    # kept until an order is placed, so refreshes and double clicks carry the same one.
    key: str = ""

    @property
    def has_details(self) -> bool:
        return bool(self.email and self.address)

    @property
    def complete(self) -> bool:
        return self.has_details and bool(self.shipping)

    def ensure_key(self) -> str:
        if not self.key:
            self.key = secrets.token_urlsafe(24)
        return self.key

    def dump(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def load(cls, raw: str | None) -> CheckoutState:
        try:
            data = json.loads(raw or "{}")
            return cls(
                email=str(data.get("email", "")),
                address={str(k): str(v) for k, v in dict(data.get("address", {})).items()},
                shipping=str(data.get("shipping", "")),
                voucher=str(data.get("voucher", "")),
                key=str(data.get("key", "")),
            )
        except (ValueError, TypeError, AttributeError):
            return cls()
