from __future__ import annotations

import pytest

from app.money import format_money, to_decimal_string


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (1250, "EUR", "€12.50"),
        (5, "USD", "$0.05"),
        (123456789, "GBP", "£1,234,567.89"),
        (-199, "EUR", "€-1.99"),
        (500, "JPY", "500 JPY"),
        (1000, "CHF", "10.00 CHF"),
    ],
    ids=["euro", "cents", "thousands", "negative", "zero-decimal", "unknown-symbol"],
)
def test_format_money(amount: int, currency: str, shown: str) -> None:
    assert format_money(amount, currency) == shown


def test_decimal_string_for_machines() -> None:
    assert to_decimal_string(1250, "EUR") == "12.50"
    assert to_decimal_string(7, "EUR") == "0.07"
