"""Totals: tax per country and region, shipping rates, discounts spread over lines, and totals
that always add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.checkout.pricing import (
    SHIPPING_METHODS,
    PriceLine,
    PricingError,
    ShippingUnavailable,
    format_weight,
    quote,
    shipping_rate,
    spread_discount,
    tax_of,
    tax_rate,
)
from app.orders.vouchers import VoucherRefused, VoucherTerms, check_terms, discount_for

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _line(price: int, quantity: int = 1, variant: int = 1, grams: int = 400) -> PriceLine:
    return PriceLine(variant, f"SKU-{variant}", "Mug", "Blue", quantity, price, grams)


def _terms(**changes: object) -> VoucherTerms:
    values: dict[str, object] = {
        "code": "SAVE", "kind": "fixed", "amount": 500, "currency": "EUR", "min_spend_minor": 0,
        "usage_limit": None, "used_count": 0, "expires_at": None, "active": True,
    }  # fmt: skip
    return VoucherTerms(**(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("country", "region", "rate"),
    [("DE", "", 1900), ("SE", "", 2500), ("US", "", 0), ("US", "ca", 725), ("IE", "", 2300)],
    ids=["germany", "sweden", "us-no-state-tax", "california", "ireland"],
)
def test_tax_rates_by_country_and_region(country: str, region: str, rate: int) -> None:
    assert tax_rate(country, region) == rate


def test_a_country_we_do_not_ship_to_has_no_rate() -> None:
    with pytest.raises(PricingError):
        tax_rate("ZZ")


def test_included_and_added_tax_round_half_up() -> None:
    assert tax_of(1190, 1900, included=True) == 190
    assert tax_of(1000, 1900, included=False) == 190
    assert tax_of(5, 1900, included=True) == 1  # 0.798 rounds up


def test_standard_shipping_is_free_over_the_threshold_and_express_never() -> None:
    below = quote([_line(4999)], "EUR", "DE", "", "standard")
    at = quote([_line(5000)], "EUR", "DE", "", "standard")
    express = quote([_line(9000)], "EUR", "DE", "", "express")

    assert (below.shipping_minor, at.shipping_minor, express.shipping_minor) == (495, 0, 1290)


def test_the_threshold_counts_goods_after_the_discount() -> None:
    priced = quote([_line(5200)], "EUR", "DE", "", "standard", discount_minor=500)

    assert priced.shipping_minor == 495


@pytest.mark.parametrize("include", [True, False], ids=["tax-included", "tax-added"])
@pytest.mark.parametrize("discount", [0, 1, 333, 10_000], ids=["none", "a-cent", "odd", "all"])
def test_totals_always_add_up(include: bool, discount: int) -> None:
    lines = [_line(999, 3, 1), _line(1, 1, 2), _line(2549, 2, 3)]

    priced = quote(lines, "EUR", "FR", "", "standard", discount, prices_include_tax=include)

    assert priced.discount_minor == min(discount, priced.subtotal_minor)
    assert sum(line.discount_minor for line in priced.lines) == priced.discount_minor
    assert sum(line.total_minor for line in priced.lines) == (
        priced.subtotal_minor - priced.discount_minor
    )
    extra = 0 if include else priced.tax_minor
    assert priced.total_minor == (
        priced.subtotal_minor + priced.shipping_minor - priced.discount_minor + extra
    )
    shipping_tax = tax_of(priced.shipping_minor, 2000, included=include)
    assert priced.tax_minor == sum(line.tax_minor for line in priced.lines) + shipping_tax


def test_a_discount_is_spread_in_proportion_and_sums_exactly() -> None:
    assert spread_discount([100, 100, 100], 100) == [34, 33, 33]
    assert spread_discount([300, 100], 100) == [75, 25]
    assert spread_discount([0, 0], 10) == [0, 0]


PARCEL = SHIPPING_METHODS["parcel"]


@pytest.mark.parametrize(
    ("grams", "price"),
    [(0, 390), (999, 390), (1_000, 390), (1_001, 590), (5_000, 590), (10_000, 890),
     (10_001, 1390), (20_000, 1390), (31_500, 1890)],
    ids=["nothing", "under-1kg", "exactly-1kg", "a-gram-over-1kg", "exactly-5kg", "exactly-10kg",
         "a-gram-over-10kg", "exactly-20kg", "exactly-the-last-limit"],
)  # fmt: skip
def test_a_parcel_costs_the_price_of_the_first_band_that_holds_it(grams: int, price: int) -> None:
    rate = shipping_rate(PARCEL, 2000, grams)

    assert (rate.available, rate.price_minor, rate.refusal) == (True, price, None)


def test_a_parcel_heavier_than_the_last_band_is_refused_with_the_reason() -> None:
    rate = shipping_rate(PARCEL, 2000, 31_501)

    assert not rate.available
    assert rate.price_minor is None
    assert rate.refusal == (
        "Parcel by weight takes parcels up to 31.5 kg; your order weighs 31.6 kg."
    )


def test_weight_banded_shipping_is_free_over_its_threshold_but_never_over_its_limit() -> None:
    below = shipping_rate(PARCEL, 14_999, 12_000)
    at = shipping_rate(PARCEL, 15_000, 12_000)
    at_the_limit = shipping_rate(PARCEL, 90_000, 31_500)
    too_heavy = shipping_rate(PARCEL, 90_000, 31_501)

    assert (below.price_minor, at.price_minor, at_the_limit.price_minor) == (1390, 0, 0)
    assert not too_heavy.available  # free shipping does not make a carrier take it


def test_the_weight_free_threshold_counts_goods_after_the_discount() -> None:
    lines = [_line(8_000, 2, grams=3_000)]  # €160.00, 6 kg

    full = quote(lines, "EUR", "DE", "", "parcel")
    discounted = quote(lines, "EUR", "DE", "", "parcel", discount_minor=1_001)

    assert (full.weight_grams, full.shipping_minor) == (6_000, 0)
    assert discounted.shipping_minor == 890  # €149.99 of goods: the 10 kg band's price


def test_a_quote_adds_up_the_weight_of_every_unit() -> None:
    lines = [_line(1000, 3, 1, grams=250), _line(500, 2, 2, grams=0), _line(2000, 1, 3, 1_000)]

    priced = quote(lines, "EUR", "DE", "", "parcel", prices_include_tax=False)

    assert priced.weight_grams == 1_750
    assert priced.shipping_minor == 590
    assert priced.tax_minor == sum(line.tax_minor for line in priced.lines) + 112  # 19 % of 5.90
    assert priced.total_minor == priced.subtotal_minor + 590 + priced.tax_minor


def test_a_quote_by_weight_for_a_parcel_too_heavy_is_refused() -> None:
    with pytest.raises(ShippingUnavailable) as refused:
        quote([_line(1000, 11, grams=3_000)], "EUR", "DE", "", "parcel")

    assert "up to 31.5 kg" in refused.value.message
    assert "33 kg" in refused.value.message


def test_flat_rates_ignore_the_weight() -> None:
    heavy = [_line(1000, 1, grams=80_000)]

    standard = quote(heavy, "EUR", "DE", "", "standard")
    express = quote(heavy, "EUR", "DE", "", "express")

    assert (standard.shipping_minor, express.shipping_minor) == (495, 1290)


def test_weight_bands_rise_with_the_weight() -> None:
    for method in SHIPPING_METHODS.values():
        limits = [band.up_to_grams for band in method.bands]
        prices = [band.price_minor for band in method.bands]
        assert limits == sorted(set(limits)), method.code
        assert prices == sorted(prices), method.code


@pytest.mark.parametrize(
    ("grams", "words"),
    [(0, "0 g"), (999, "999 g"), (1_000, "1 kg"), (1_001, "1.1 kg"), (2_400, "2.4 kg"),
     (31_500, "31.5 kg")],
)  # fmt: skip
def test_weights_read_in_grams_or_kilograms_never_lighter_than_they_are(
    grams: int, words: str
) -> None:
    assert format_weight(grams) == words


def test_an_unknown_shipping_method_is_a_programming_error() -> None:
    with pytest.raises(PricingError):
        quote([_line(100)], "EUR", "DE", "", "pigeon")


def test_fixed_and_percent_discounts() -> None:
    assert discount_for(_terms(amount=500), 2000) == 500
    assert discount_for(_terms(amount=5000), 2000) == 2000  # never more than the goods
    assert discount_for(_terms(kind="percent", amount=15), 1999) == 300  # 299.85 rounds up


@pytest.mark.parametrize(
    ("changes", "subtotal", "code"),
    [
        ({"active": False}, 5000, "inactive"),
        ({"expires_at": NOW - timedelta(seconds=1)}, 5000, "expired"),
        ({"usage_limit": 3, "used_count": 3}, 5000, "used_up"),
        ({"min_spend_minor": 5000}, 4999, "min_spend"),
        ({"currency": "GBP"}, 5000, "currency"),
    ],
    ids=["inactive", "expired", "used-up", "below-minimum-spend", "other-currency"],
)
def test_each_reason_a_code_is_refused(
    changes: dict[str, object], subtotal: int, code: str
) -> None:
    with pytest.raises(VoucherRefused) as refused:
        check_terms(_terms(**changes), subtotal, "EUR", NOW)

    assert refused.value.code == code
    assert "SAVE" in refused.value.message


def test_a_code_within_its_terms_is_accepted() -> None:
    terms = _terms(expires_at=NOW + timedelta(days=1), usage_limit=3, used_count=2,
                   min_spend_minor=5000)  # fmt: skip

    check_terms(terms, 5000, "EUR", NOW)
