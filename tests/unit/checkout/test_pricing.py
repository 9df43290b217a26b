"""Totals: tax per country and region, shipping rates, discounts spread over lines, and totals
that always add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.checkout.pricing import PriceLine, PricingError, quote, spread_discount, tax_of, tax_rate
from app.orders.vouchers import VoucherRefused, VoucherTerms, check_terms, discount_for

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _line(price: int, quantity: int = 1, variant: int = 1) -> PriceLine:
    return PriceLine(variant, f"SKU-{variant}", "Mug", "Blue", quantity, price)


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
