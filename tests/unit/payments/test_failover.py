"""Failover: the card gateway's circuit breaker, what checkout offers while it is open, the order
page's "Pay by bank transfer instead", and automatic recovery — against the real Redis and the
payment simulator (faults injected on this test's own simulator account)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from app.orders import service as orders
from app.payments.breaker import CircuitBreaker
from app.payments.gateways import card_breaker
from app.settings import Settings
from tests.conftest import _client_for
from tests.factories.db import session_for
from tests.factories.orders import make_order
from tests.factories.payments import GOOD_CARD, local_path, pay_on_hosted_page, set_faults
from tests.unit.accounts.conftest import csrf_token
from tests.unit.checkout.test_routes import _fill_cart, _place, _to_review

pytestmark = pytest.mark.anyio
UNAVAILABLE = (
    "Card payments are unavailable right now: our card provider is reporting errors. "
    "You can pay by bank transfer."
)


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def _trip(breaker: CircuitBreaker, settings: Settings) -> None:
    for _ in range(settings.payment_breaker_failures):
        await breaker.record_failure("our card provider is reporting errors")


async def _faults(settings: Settings, method: str = "POST") -> dict[str, Any]:
    """The simulator's faults for this test's account (POST {} reads them; DELETE clears)."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.request(
            method, f"{settings.stripe_api_base}/_sim/faults",
            json={} if method == "POST" else None,
            headers={"Authorization": f"Bearer {settings.stripe_secret_key}"},
        )  # fmt: skip
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


async def _pay_now(client: httpx.AsyncClient, settings: Settings, number: str) -> httpx.Response:
    """ "Pay now by card" as the holder of the order's signed link, in the client's session."""
    key = orders.guest_token(str(settings.secret_key), number)
    token = await csrf_token(client, f"/orders/{number}?key={key}")
    return await client.post(f"/orders/{number}/pay", data={"key": key, "csrf_token": token})


async def _count(settings: Settings, table: str) -> int:
    async with session_for(settings.database_url) as session:
        return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


# --- the review step --------------------------------------------------------------------------


async def test_the_review_step_preselects_card_while_the_provider_is_up(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await _fill_cart(client, settings.database_url)

    _, _, review = await _to_review(client)

    assert re.search(r'value="card" checked>', review.text)
    assert 'data-testid="payment-unavailable"' not in review.text
    assert "Bank transfer" in review.text


async def test_while_the_breaker_is_open_the_review_step_offers_bank_transfer_and_says_why(
    client: httpx.AsyncClient, settings: Settings, redis: Redis
) -> None:
    await _fill_cart(client, settings.database_url)
    await _trip(card_breaker(redis, settings), settings)

    key, total, review = await _to_review(client)
    by_card = await _place(client, key, total, method="card")
    orders_after_card = await _count(settings, "shop_order")
    by_transfer = await _place(client, key, total, method="bank_transfer")
    page = await client.get(by_transfer.headers["location"])

    assert UNAVAILABLE in review.text
    assert re.search(r'value="card" disabled', review.text)
    assert re.search(r'value="bank_transfer" checked>', review.text)
    assert by_card.status_code == 422
    assert 'data-testid="form-error"' in by_card.text
    assert UNAVAILABLE in by_card.text
    assert orders_after_card == 0
    assert by_transfer.status_code == 303
    assert re.fullmatch(r"/orders/EC-\d+", by_transfer.headers["location"])
    assert 'data-status="pending_payment"' in page.text
    assert 'data-testid="transfer-instructions"' in page.text
    number = by_transfer.headers["location"].rsplit("/", 1)[1]
    assert f'data-testid="transfer-reference">{number}<' in page.text
    assert 'data-testid="transfer-iban">DE89 3704 0044 0532 0130 00<' in page.text
    assert 'data-testid="pay-now"' not in page.text  # card is down: not offered here either


async def test_when_the_provider_fails_at_place_order_the_order_page_offers_a_transfer(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await _fill_cart(client, settings.database_url)
    key, total, _ = await _to_review(client)
    await set_faults(settings, fail_next=1)

    placed = await _place(client, key, total, method="card")
    page = await client.get(placed.headers["location"])
    number = placed.headers["location"].split("?")[0].rsplit("/", 1)[1]
    token = await csrf_token(client, f"/orders/{number}")
    switched = await client.post(
        f"/orders/{number}/pay", data={"csrf_token": token, "method": "bank_transfer"}
    )
    after = await client.get(switched.headers["location"])

    assert "We could not reach the payment provider" in page.text
    assert 'data-testid="pay-by-transfer"' in page.text
    assert 'data-testid="pay-now"' in page.text  # one failure does not open the breaker
    assert switched.status_code == 303
    assert switched.headers["location"] == f"/orders/{number}"
    assert 'data-testid="transfer-instructions"' in after.text
    assert 'data-testid="pay-by-transfer"' not in after.text
    assert "Pay by card instead" in after.text
    assert 'data-status="pending_payment"' in after.text


# --- the breaker with the real simulator ------------------------------------------------------


async def test_provider_errors_open_the_breaker_transfer_works_and_card_recovers_by_itself(
    settings: Settings, redis: Redis
) -> None:
    # A short cool-down, so that the test can wait it out; 5 s leave the open phase, a few
    # local requests, ample time.
    quick = replace(settings, payment_breaker_cooldown_seconds=5)
    breaker = card_breaker(redis, quick)
    waiting = [(await make_order(quick)).number for _ in range(quick.payment_breaker_failures + 1)]
    async with _client_for(quick) as shop:
        await _fill_cart(shop, quick.database_url)
        key, total, _ = await _to_review(shop)
        await set_faults(quick, fail_next=1000)

        failed = [await _pay_now(shop, quick, number) for number in waiting[:-1]]
        opened = await breaker.status()
        calls_left = (await _faults(quick))["fail_next"]
        short_circuited = await _pay_now(shop, quick, waiting[-1])
        calls_left_after = (await _faults(quick))["fail_next"]
        review = await shop.get("/checkout/review")
        by_transfer = await _place(shop, key, total, method="bank_transfer")
        transfer_page = await shop.get(by_transfer.headers["location"])
        still_open = await breaker.status()

        await _faults(quick, "DELETE")
        await _wait_for_state(breaker, "half_open")
        trial = await _pay_now(shop, quick, waiting[-1])
        closed = await breaker.status()
        paid = await pay_on_hosted_page(trial.headers["location"], GOOD_CARD)
        back = await shop.get(local_path(paid.headers["location"]))
        order_page = await shop.get(back.headers["location"])

    for response in [*failed, short_circuited]:
        assert response.status_code == 303
        assert "payment_error=provider_unavailable" in response.headers["location"]
    assert (opened.state, opened.reason) == ("open", "our card provider is reporting errors")
    assert calls_left == 1000 - quick.payment_breaker_failures
    assert calls_left_after == calls_left  # while open, no call goes to the provider at all
    assert UNAVAILABLE in review.text
    assert 'data-testid="transfer-instructions"' in transfer_page.text
    assert still_open.state == "open"
    assert trial.headers["location"].startswith(f"{quick.stripe_api_base}/c/pay/")
    assert closed.state == "closed"
    assert 'data-status="paid"' in order_page.text


async def _wait_for_state(breaker: CircuitBreaker, state: str) -> None:
    deadline = time.monotonic() + 30
    while (await breaker.status()).state != state:
        assert time.monotonic() < deadline, f"the breaker did not become {state} in time"
        await asyncio.sleep(0.1)
