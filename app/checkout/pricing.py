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
class WeightBand:
    up_to_grams: int  # parcels up to and including this weight
    price_minor: int


@dataclass(frozen=True)
class ShippingMethod:
    code: str
    name: str
    price_minor: int  # the flat rate; unused when the method has weight bands
    free_over_minor: int | None  # goods (after discount) at or above this ship free
    days: str
    # Ascending bands: the first that holds the parcel's weight sets the price. A parcel
    # heavier than the last band cannot go by this method at all, free or not.
    bands: tuple[WeightBand, ...] = ()


SHIPPING_METHODS: dict[str, ShippingMethod] = {
    "standard": ShippingMethod("standard", "Standard delivery", 495, 5000, "3 to 5 working days"),
    "express": ShippingMethod("express", "Express delivery", 1290, None, "next working day"),
    "parcel": ShippingMethod(
        "parcel", "Parcel by weight", 0, 15000, "2 to 4 working days",
        bands=(
            WeightBand(1_000, 390), WeightBand(5_000, 590), WeightBand(10_000, 890),
            WeightBand(20_000, 1390), WeightBand(31_500, 1890),
        ),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class ShippingRate:
    """What a method costs for one parcel, or why it cannot take it (price then None)."""

    method: ShippingMethod
    price_minor: int | None
    refusal: str | None = None

    @property
    def available(self) -> bool:
        return self.price_minor is not None


class ShippingUnavailable(ValueError):
    """The method cannot take this parcel; `message` is for the shopper."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
    unit_weight_grams: int

    @property
    def weight_grams(self) -> int:
        return self.unit_weight_grams * self.quantity


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
    weight_grams: int


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


def format_weight(grams: int) -> str:
    """850 g, 1 kg, 2.4 kg, 31.5 kg: what a shopper reads (kg to one decimal, rounded up, so
    a parcel is never shown lighter than a band limit it is over)."""
    if grams < 1000:
        return f"{grams} g"
    tenths = -(-grams // 100)
    return f"{tenths // 10} kg" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10} kg"


def shipping_rate(method: ShippingMethod, goods_minor: int, weight_grams: int) -> ShippingRate:
    """The method's price for goods worth `goods_minor` (after discount) weighing
    `weight_grams`: its weight band's price (or flat rate), 0 at or over the free-shipping
    threshold; refused when the parcel is heavier than the method's last band."""
    price = method.price_minor
    if method.bands:
        band = next((b for b in method.bands if weight_grams <= b.up_to_grams), None)
        if band is None:
            limit = format_weight(method.bands[-1].up_to_grams)
            return ShippingRate(
                method, None,
                f"{method.name} takes parcels up to {limit}; "
                f"your order weighs {format_weight(weight_grams)}.",
            )  # fmt: skip
        price = band.price_minor
    if method.free_over_minor is not None and goods_minor >= method.free_over_minor:
        price = 0
    return ShippingRate(method, price)


def shipping_price(method: ShippingMethod, goods_minor: int, weight_grams: int) -> int:
    """As shipping_rate; ShippingUnavailable when the method cannot take the parcel."""
    rate = shipping_rate(method, goods_minor, weight_grams)
    if rate.price_minor is None:
        raise ShippingUnavailable(rate.refusal or f"{method.name} cannot take this order.")
    return rate.price_minor


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
    """The priced checkout. PricingError for an unknown method or country (a caller's bug);
    ShippingUnavailable when the method cannot take a parcel this heavy."""
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
    weight = sum(line.weight_grams for line in lines)
    shipping = shipping_price(method, subtotal - discount, weight)
    tax = sum(line.tax_minor for line in quoted) + tax_of(
        shipping, rate, included=prices_include_tax
    )
    total = subtotal + shipping - discount + (0 if prices_include_tax else tax)
    return Quote(
        currency=currency, lines=quoted, subtotal_minor=subtotal, shipping=method,
        shipping_minor=shipping, discount_minor=discount, tax_minor=tax, total_minor=total,
        tax_rate_bp=rate, prices_include_tax=prices_include_tax, weight_grams=weight,
    )  # fmt: skip
