"""Checkout over HTTP: each step, its errors re-rendered with 422, placing once, the order page."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import text

from app.settings import Settings
from tests.factories.accounts import make_account
from tests.factories.catalog import make_product
from tests.factories.db import session_for
from tests.factories.orders import ADDRESS
from tests.unit.accounts.conftest import csrf_token, sign_in

pytestmark = pytest.mark.anyio
_KEY = re.compile(r'name="key" value="([^"]+)"')
_TOTAL = re.compile(r'name="total" value="(\d+)"')
_NUMBER = re.compile(r"/orders/(EC-\d+)")


async def _fill_cart(
    client: httpx.AsyncClient, database_url: str, on_hand: int = 10, grams: int = 400
) -> int:
    async with session_for(database_url) as session:
        made = await make_product(session, stock=(on_hand,), price_minor=1250, weight_grams=grams)
    variant = made.variant_ids[0]
    await client.post("/cart/lines", data={"variant_id": str(variant), "quantity": "2"})
    return variant


async def _choose_shipping(client: httpx.AsyncClient, method: str) -> httpx.Response:
    token = await csrf_token(client, "/checkout/shipping")
    return await client.post("/checkout/shipping", data={"csrf_token": token, "shipping": method})


async def _details(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    token = await csrf_token(client, "/checkout")
    data = {"csrf_token": token, "email": "Gia@Example.com", **ADDRESS, **fields}
    return await client.post("/checkout", data=data)


async def _to_review(client: httpx.AsyncClient) -> tuple[str, str, httpx.Response]:
    await _details(client)
    token = await csrf_token(client, "/checkout/shipping")
    await client.post("/checkout/shipping", data={"csrf_token": token, "shipping": "standard"})
    review = await client.get("/checkout/review")
    key, total = _KEY.search(review.text), _TOTAL.search(review.text)
    assert key, review.text
    assert total
    return key.group(1), total.group(1), review


async def _place(
    client: httpx.AsyncClient, key: str, total: str, method: str = "bank_transfer"
) -> httpx.Response:
    token = await csrf_token(client, "/checkout")
    data = {"csrf_token": token, "key": key, "total": total, "payment_method": method}
    return await client.post("/checkout/place-order", data=data)


async def _count(database_url: str, table: str) -> int:
    async with session_for(database_url) as session:
        return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_a_guest_checks_out_to_the_hosted_payment_page(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    await _fill_cart(client, database_url)

    details = await _details(client)
    shipping = await client.get("/checkout/shipping")
    key, total, review = await _to_review(client)
    placed = await _place(client, key, total, method="card")
    async with session_for(database_url) as session:
        number = (await session.execute(text("SELECT number FROM shop_order"))).scalar_one()
    page = await client.get(f"/orders/{number}")
    cart_page = await client.get("/cart")

    assert details.status_code == 303
    assert details.headers["location"] == "/checkout/shipping"
    assert 'data-testid="shipping-method"' in shipping.text
    assert "€4.95" in shipping.text
    assert review.headers["cache-control"] == "private, no-store"
    # 2 x €12.50 + €4.95 standard shipping, German VAT (19 %) included.
    assert total == "2995"
    assert 'data-testid="cart-total">€29.95<' in review.text
    assert "incl. €4.78 VAT" in review.text
    assert 'data-testid="payment-method"' in review.text
    assert 'name="payment_method" value="card" checked' in review.text
    assert placed.status_code == 303
    assert placed.headers["location"].startswith(f"{settings.stripe_api_base}/c/pay/cs_test_")
    assert 'data-testid="order-number">EC-' in page.text
    assert 'data-status="pending_payment"' in page.text
    assert "waiting for payment" in page.text
    assert page.headers["cache-control"] == "private, no-store"
    assert 'data-testid="cart-empty"' in cart_page.text


async def test_checkout_without_a_cart_goes_back_to_the_cart(client: httpx.AsyncClient) -> None:
    response = await client.get("/checkout")

    assert response.status_code == 303
    assert response.headers["location"] == "/cart"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "does not look like an e-mail address"),
        ({"postal_code": "ABC"}, "is not a postal code in Germany"),
        ({"full_name": ""}, "Please fill this in."),
        ({"country": "ZZ"}, "Please choose a country we ship to."),
    ],
    ids=["email", "postal-code", "name", "country"],
)
async def test_bad_details_are_shown_again_with_the_fields_error(
    client: httpx.AsyncClient, database_url: str, fields: dict[str, str], message: str
) -> None:
    await _fill_cart(client, database_url)

    response = await _details(client, **fields)

    assert response.status_code == 422
    assert 'data-testid="form-error"' in response.text
    assert message in response.text
    assert 'data-testid="checkout-email"' in response.text


async def test_an_unknown_shipping_method_is_refused(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await _fill_cart(client, database_url)
    await _details(client)
    token = await csrf_token(client, "/checkout/shipping")

    response = await client.post("/checkout/shipping", data={"csrf_token": token, "shipping": "x"})

    assert response.status_code == 422
    assert "Please choose how to ship." in response.text


def _option(html: str, code: str) -> str:
    found = re.search(rf'<label[^>]*data-testid="shipping-option-{code}".*?</label>', html, re.S)
    assert found, html
    return found.group(0)


async def test_the_shipping_step_prices_a_parcel_by_the_carts_weight(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await _fill_cart(client, database_url, grams=400)  # 2 x 400 g
    await _details(client)

    shipping = await client.get("/checkout/shipping")
    chosen = await _choose_shipping(client, "parcel")
    key, total, review = await _to_review_with(client, "parcel")
    placed = await _place(client, key, total)

    assert shipping.status_code == 200
    assert 'data-testid="cart-weight">Your order weighs 800 g.' in shipping.text
    assert "€3.90" in _option(shipping.text, "parcel")  # the band up to 1 kg
    assert "€4.95" in _option(shipping.text, "standard")
    assert chosen.status_code == 303
    assert total == "2890"  # 2 x €12.50 + €3.90
    assert "Parcel by weight" in review.text
    assert placed.status_code == 303
    async with session_for(database_url) as session:
        row = await session.execute(
            text(
                "SELECT o.shipping_method, o.shipping_method_name, o.shipping_minor, "
                "l.unit_weight_grams FROM shop_order o JOIN order_line l ON l.order_id = o.id"
            )
        )
        assert tuple(row.one()) == ("parcel", "Parcel by weight", 390, 400)


async def _to_review_with(
    client: httpx.AsyncClient, method: str
) -> tuple[str, str, httpx.Response]:
    await _choose_shipping(client, method)
    review = await client.get("/checkout/review")
    key, total = _KEY.search(review.text), _TOTAL.search(review.text)
    assert key, review.text
    assert total
    return key.group(1), total.group(1), review


async def test_a_cart_too_heavy_for_parcels_is_told_why_and_cannot_choose_them(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await _fill_cart(client, database_url, grams=16_000)  # 2 x 16 kg: over the 31.5 kg limit
    await _details(client)

    shipping = await client.get("/checkout/shipping")
    refused = await _choose_shipping(client, "parcel")

    parcel = _option(shipping.text, "parcel")
    reason = "Parcel by weight takes parcels up to 31.5 kg; your order weighs 32 kg."
    assert 'data-testid="cart-weight">Your order weighs 32 kg.' in shipping.text
    assert "disabled" in parcel
    assert reason in parcel
    assert "checked" in _option(shipping.text, "standard")
    assert refused.status_code == 422
    assert f'data-testid="form-error">{reason}<' in refused.text


async def test_a_cart_grown_too_heavy_after_choosing_parcel_goes_back_to_shipping(
    client: httpx.AsyncClient, database_url: str
) -> None:
    variant = await _fill_cart(client, database_url, grams=10_000)  # 20 kg
    await _details(client)
    key, total, _ = await _to_review_with(client, "parcel")
    await client.post(f"/cart/lines/{variant}", data={"quantity": "4"})  # now 40 kg

    review = await client.get("/checkout/review")
    placed = await _place(client, key, total)

    for response in (review, placed):
        assert response.status_code == 422
        assert 'data-testid="shipping-method"' in response.text
        assert "your order weighs 40 kg" in response.text
    assert await _count(database_url, "shop_order") == 0


async def test_a_form_without_the_session_token_is_refused(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await _fill_cart(client, database_url)

    response = await client.post("/checkout", data={"email": "a@example.com", **ADDRESS})

    assert response.status_code == 403


async def test_vouchers_are_applied_or_refused_with_the_reason(
    client: httpx.AsyncClient, database_url: str
) -> None:
    async with session_for(database_url) as session:
        await session.execute(
            text(
                "INSERT INTO voucher (code, kind, amount, min_spend_minor) "
                "VALUES ('TENOFF', 'percent', 10, 0), ('BIGSPEND', 'fixed', 500, 100000)"
            )
        )
    await _fill_cart(client, database_url)
    await _to_review(client)
    token = await csrf_token(client, "/checkout/review")

    unknown = await client.post("/checkout/voucher", data={"csrf_token": token, "code": "NOPE"})
    too_small = await client.post(
        "/checkout/voucher", data={"csrf_token": token, "code": "bigspend"}
    )
    applied = await client.post("/checkout/voucher", data={"csrf_token": token, "code": "tenoff"})
    review = await client.get("/checkout/review")

    assert unknown.status_code == 422
    assert "We do not know that code." in unknown.text
    assert too_small.status_code == 422
    assert "needs a spend of at least €1,000.00" in too_small.text
    assert applied.status_code == 303
    assert 'data-testid="discount">-€2.50<' in review.text
    # €25.00 - €2.50 = €22.50 of goods: under €50, so standard shipping still costs €4.95.
    assert 'data-testid="cart-total">€27.45<' in review.text


async def test_double_submits_and_replays_place_one_order(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await _fill_cart(client, database_url)
    key, total, _ = await _to_review(client)
    token = await csrf_token(client, "/checkout/review")
    data = {"csrf_token": token, "key": key, "total": total, "payment_method": "bank_transfer"}

    first, second = await asyncio.gather(
        client.post("/checkout/place-order", data=data),
        client.post("/checkout/place-order", data=data),
    )
    replay = await client.post("/checkout/place-order", data=data)

    locations = {first.headers["location"], second.headers["location"], replay.headers["location"]}
    assert len(locations) == 1
    assert await _count(database_url, "shop_order") == 1
    assert await _count(database_url, "stock_reservation") == 1
    assert await _count(database_url, "outbox_event WHERE kind = 'email'") == 1


async def test_stock_gone_before_placing_says_which_item_and_writes_nothing(
    client: httpx.AsyncClient, database_url: str
) -> None:
    variant = await _fill_cart(client, database_url)
    key, total, _ = await _to_review(client)
    async with session_for(database_url) as session:  # someone else bought all but one
        await session.execute(
            text("UPDATE stock_level SET on_hand = 1 WHERE variant_id = :v"), {"v": variant}
        )

    response = await _place(client, key, total)

    assert response.status_code == 422
    assert 'data-testid="form-error"' in response.text
    assert "Test Mug (Option 1): Only 1 left: lower the quantity to check out." in response.text
    assert await _count(database_url, "shop_order") == 0
    assert await _count(database_url, "stock_reservation") == 0
    assert await _count(database_url, "outbox_event WHERE kind = 'email'") == 0


async def test_the_order_page_is_for_its_guest_its_link_and_staff_only(
    client: httpx.AsyncClient, database_url: str, settings: Settings
) -> None:
    from app.orders.service import guest_token

    await _fill_cart(client, database_url)
    key, total, _ = await _to_review(client)
    number = _NUMBER.fullmatch((await _place(client, key, total)).headers["location"])
    assert number
    path = f"/orders/{number.group(1)}"
    await make_account(database_url, "other@example.com")
    await make_account(database_url, "clerk@example.com", role="clerk")

    mine = await client.get(path)
    client.cookies.clear()
    stranger = await client.get(path)
    wrong_link = await client.get(f"{path}?key=00")
    linked = await client.get(f"{path}?key={guest_token(str(settings.secret_key), number[1])}")
    await sign_in(client, "other@example.com")
    other_shopper = await client.get(path)
    client.cookies.clear()
    await sign_in(client, "clerk@example.com")
    staff = await client.get(path)
    missing = await client.get("/orders/EC-1")

    assert mine.status_code == 200
    assert (stranger.status_code, wrong_link.status_code, other_shopper.status_code) == (
        404, 404, 404,
    )  # fmt: skip
    assert linked.status_code == 200
    assert staff.status_code == 200
    assert missing.status_code == 404


async def test_a_signed_in_shopper_uses_a_saved_address_and_sees_the_order_in_the_account(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "ada@example.com")
    await sign_in(client, "ada@example.com")
    token = await csrf_token(client, "/account/addresses/new")
    await client.post("/account/addresses/new", data={"csrf_token": token, **ADDRESS})
    await _fill_cart(client, database_url)
    page = await client.get("/checkout")
    saved = re.search(r'name="saved_address" value="(\d+)"', page.text)
    assert saved

    token = await csrf_token(client, "/checkout")
    chosen = await client.post(
        "/checkout",
        data={"csrf_token": token, "email": "ada@example.com", "saved_address": saved.group(1)},
    )
    token = await csrf_token(client, "/checkout/shipping")
    await client.post("/checkout/shipping", data={"csrf_token": token, "shipping": "express"})
    review = await client.get("/checkout/review")
    key, total = _KEY.search(review.text), _TOTAL.search(review.text)
    assert key
    assert total
    placed = await _place(client, key.group(1), total.group(1))
    account = await client.get("/account")

    assert 'value="ada@example.com"' in page.text
    assert chosen.status_code == 303
    assert "Express delivery" in review.text
    number = placed.headers["location"].rsplit("/", 1)[1]
    assert f'href="/orders/{number}"' in account.text


async def test_an_unknown_payment_method_is_refused_with_422(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await _fill_cart(client, database_url)
    key, total, _ = await _to_review(client)

    refused = await _place(client, key, total, method="bitcoin")

    assert refused.status_code == 422
    assert "Please choose how to pay." in refused.text
    assert await _count(database_url, "shop_order") == 0
