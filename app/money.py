"""Money is an integer amount of minor units plus an ISO 4217 currency code. Never floats."""

from __future__ import annotations

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
ZERO_DECIMAL = {"JPY", "KRW"}


def format_money(amount_minor: int, currency: str) -> str:
    """`format_money(1250, "EUR")` gives `€12.50`; unknown currencies keep their code."""
    if currency in ZERO_DECIMAL:
        number = f"{amount_minor:,}"
    else:
        sign = "-" if amount_minor < 0 else ""
        whole, cents = divmod(abs(amount_minor), 100)
        number = f"{sign}{whole:,}.{cents:02d}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def to_decimal_string(amount_minor: int, currency: str) -> str:
    """The plain decimal form machines read (JSON-LD, feeds): `12.50`."""
    if currency in ZERO_DECIMAL:
        return str(amount_minor)
    sign = "-" if amount_minor < 0 else ""
    whole, cents = divmod(abs(amount_minor), 100)
    return f"{sign}{whole}.{cents:02d}"
