"""Payment error codes and what the shopper is told, in plain words.

Card declines keep the provider's reason where telling it helps the shopper (no funds, expired
card, wrong security code); reasons that would help a fraudster (stolen, lost, fraudulent) all
read as a plain decline.
"""

from __future__ import annotations

from collections.abc import Mapping

DECLINED = "Your card was declined. Nothing was charged: try another card."
MESSAGES: Mapping[str, str] = {
    "generic_decline": DECLINED,
    "card_declined": DECLINED,
    "do_not_honor": DECLINED,
    "insufficient_funds": (
        "Your card has insufficient funds. Nothing was charged: try another card."
    ),
    "expired_card": "Your card has expired. Nothing was charged: try another card.",
    "incorrect_cvc": "Your card's security code is incorrect. Nothing was charged: try again.",
    "incorrect_number": "Your card number is incorrect. Nothing was charged: try again.",
    "processing_error": "Your card could not be processed. Nothing was charged: try again.",
    "provider_unavailable": (
        "We could not reach the payment provider. Nothing was charged: please try again in a "
        "moment."
    ),
    "expired": "The payment page closed before a payment was made. Nothing was charged.",
    "canceled": "The payment was cancelled. Nothing was charged.",
    "start_interrupted": "Starting the payment was interrupted. Nothing was charged: try again.",
}
GENERIC = "The payment did not go through. Nothing was charged: please try again."


def message_for(code: str | None, decline_code: str | None = None) -> str:
    """What the shopper reads for a failed attempt: the decline reason first, then the code."""
    for candidate in (decline_code, code):
        if candidate and candidate in MESSAGES:
            return MESSAGES[candidate]
    return DECLINED if code == "card_declined" else GENERIC


class PaymentError(ValueError):
    """A payment the shop cannot start or finish; `code` is stable, `message` safe to show."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
