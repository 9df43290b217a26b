"""Totals of a checkout: tax per country (and US state), shipping methods and their rates,
a voucher's discount spread over the lines. Pure functions on integer minor units.

Tax is worked out per line and rounded per line, so the lines always add up to the totals:
- prices include tax (the demo): total = subtotal + shipping - discount; tax is the part of
  that total which is VAT ("incl. VAT");
- prices exclude tax: total = subtotal + shipping - discount + tax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# VAT in basis points (1900 = 19 %), standard rates, for the countries in
# app.accounts.validation.COUNTRIES. The US has no federal sales tax; a few states are listed.
TAX_RATES_BP: dict[str, int] = {
    "AT": 2000, "BE": 2100, "DE": 1900, "DK": 2500, "ES": 2100, "FR": 2000, "GB": 2000,
    "IE": 2300, "IT": 2200, "NL": 2100, "PL": 2300, "SE": 2500, "US": 0,
}  # fmt: skip
REGION_TAX_RATES_BP: dict[tuple[str, str], int] = {
    ("US", "CA"): 725, ("US", "NY"): 400, ("US", "TX"): 625, ("US", "WA"): 650,
}  # fmt: skip


@dataclass(frozen=True)
class ShippingMethod:
    code: str
    name: str
    price_minor: int
    free_over_minor: int | None  # goods (after discount) at or above this ship free
    days: str


# Weight-based rates need a weight per variant, which the catalog does not have yet.
SHIPPING_METHODS: dict[str, ShippingMethod] = {
    "standard": ShippingMethod("standard", "Standard delivery", 495, 5000, "3 to 5 working days"),
    "express": ShippingMethod("express", "Express delivery", 1290, None, "next working day"),
}


class PricingError(ValueError):
    """An input the totals cannot be worked out for (a programming error in the caller)."""


@dataclass(frozen=True)
class PriceLine:
    variant_id: int
    sku: str
    product_title: str
    variant_title: str
    quantity: int
    unit_price_minor: int


@dataclass(frozen=True)
class QuoteLine:
    item: PriceLine
    discount_minor: int
    tax_minor: int
    total_minor: int  # what the shopper pays for the line, before tax when it is added on top

    @property
    def gross_minor(self) -> int:
        return self.item.unit_price_minor * self.item.quantity


@dataclass(frozen=True)
class Quote:
    currency: str
    lines: list[QuoteLine]
    subtotal_minor: int
    shipping: ShippingMethod
    shipping_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    tax_rate_bp: int
    prices_include_tax: bool


def tax_rate(country: str, region: str = "") -> int:
    country = country.upper()
    if country not in TAX_RATES_BP:
        raise PricingError(f"no tax rate for {country!r}")
    return REGION_TAX_RATES_BP.get((country, region.strip().upper()), TAX_RATES_BP[country])


def _round_div(numerator: int, denominator: int) -> int:
    """Half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def tax_of(amount_minor: int, rate_bp: int, *, included: bool) -> int:
    """The tax in `amount_minor` (included) or on top of it (not included), rounded."""
    if included:
        return _round_div(amount_minor * rate_bp, 10_000 + rate_bp)
    return _round_div(amount_minor * rate_bp, 10_000)


def shipping_price(method: ShippingMethod, goods_minor: int) -> int:
    if method.free_over_minor is not None and goods_minor >= method.free_over_minor:
        return 0
    return method.price_minor


def spread_discount(amounts: Sequence[int], discount_minor: int) -> list[int]:
    """Split `discount_minor` over lines in proportion to their amounts, summing exactly to it
    (largest remainders get the odd cents)."""
    total = sum(amounts)
    if discount_minor <= 0 or total <= 0:
        return [0] * len(amounts)
    shares = [amount * discount_minor // total for amount in amounts]
    remainders = sorted(
        range(len(amounts)), key=lambda i: (-(amounts[i] * discount_minor % total), i)
    )
    for i in remainders[: discount_minor - sum(shares)]:
        shares[i] += 1
    return shares


def quote(
    lines: Sequence[PriceLine], currency: str, country: str, region: str, method_code: str,
    discount_minor: int = 0, *, prices_include_tax: bool = True,
) -> Quote:  # fmt: skip
    if method_code not in SHIPPING_METHODS:
        raise PricingError(f"no shipping method {method_code!r}")
    rate = tax_rate(country, region)
    gross = [line.unit_price_minor * line.quantity for line in lines]
    subtotal = sum(gross)
    discount = min(max(0, discount_minor), subtotal)
    discounts = spread_discount(gross, discount)
    quoted = []
    for line, amount, off in zip(lines, gross, discounts, strict=True):
        tax = tax_of(amount - off, rate, included=prices_include_tax)
        quoted.append(QuoteLine(line, off, tax, amount - off))
    method = SHIPPING_METHODS[method_code]
    shipping = shipping_price(method, subtotal - discount)
    tax = sum(line.tax_minor for line in quoted) + tax_of(
        shipping, rate, included=prices_include_tax
    )
    total = subtotal + shipping - discount + (0 if prices_include_tax else tax)
    return Quote(
        currency=currency, lines=quoted, subtotal_minor=subtotal, shipping=method,
        shipping_minor=shipping, discount_minor=discount, tax_minor=tax, total_minor=total,
        tax_rate_bp=rate, prices_include_tax=prices_include_tax,
    )  # fmt: skip
