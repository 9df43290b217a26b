"""Voucher rules, free of the database: why a code is refused, and what it takes off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.money import format_money


class VoucherRefused(ValueError):
    """A code that cannot be used now; `code` is stable, `message` is for the shopper."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VoucherTerms:
    code: str
    kind: str  # fixed (minor units) or percent (whole percent)
    amount: int
    currency: str
    min_spend_minor: int
    usage_limit: int | None
    used_count: int
    expires_at: datetime | None
    active: bool
    starts_at: datetime | None = None


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()[:40]


def check_terms(terms: VoucherTerms, subtotal_minor: int, currency: str, now: datetime) -> None:
    """Raises VoucherRefused with the reason the code cannot be used on this subtotal."""
    if not terms.active:
        raise VoucherRefused("inactive", f"The code {terms.code} is no longer valid.")
    if terms.expires_at is not None and terms.expires_at <= now:
        raise VoucherRefused("expired", f"The code {terms.code} has expired.")
    if terms.starts_at is not None and terms.starts_at > now:
        starts = terms.starts_at.astimezone(UTC)
        raise VoucherRefused(
            "not_yet_valid",
            f"The code {terms.code} can be used from {starts.day} {starts:%B %Y} (UTC).",
        )
    if terms.usage_limit is not None and terms.used_count >= terms.usage_limit:
        raise VoucherRefused("used_up", f"The code {terms.code} has been used up.")
    if terms.kind == "fixed" and terms.currency != currency:
        raise VoucherRefused("currency", f"The code {terms.code} is not valid in {currency}.")
    if subtotal_minor < terms.min_spend_minor:
        spend = format_money(terms.min_spend_minor, currency)
        raise VoucherRefused(
            "min_spend", f"The code {terms.code} needs a spend of at least {spend}."
        )


def discount_for(terms: VoucherTerms, subtotal_minor: int) -> int:
    """What the code takes off the goods (never shipping), at most the whole subtotal."""
    if terms.kind == "percent":
        return min(subtotal_minor, (subtotal_minor * terms.amount * 2 + 100) // 200)
    return min(subtotal_minor, terms.amount)
