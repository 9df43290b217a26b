"""Shoppers for the checkout benchmarks: each one fills a cart and walks the checkout through the
real HTTP endpoints up to the review page, ready to press place-order.

Used by bench/oversell.py and bench/checkout.py.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import httpx

ADDRESS = {
    "full_name": "Bench Buyer", "line1": "Invalidenstraße 1", "line2": "", "postal_code": "10115",
    "city": "Berlin", "region": "", "country": "DE", "phone": "",
}  # fmt: skip
_FIELD = re.compile(r'name="(csrf_token|key|total)" value="([^"]*)"')
_PAYMENT_METHOD = re.compile(r'name="payment_method" value="([^"]+)"')
CARD = "card"


@dataclass
class ReadyBuyer:
    client: httpx.AsyncClient
    form: dict[str, str]  # csrf_token, key, total, payment_method: what the review form posts


@dataclass(frozen=True)
class Outcome:
    status: int
    placed: bool  # answered 303 to the order page
    sold_out: bool  # answered 422 naming the item as unavailable
    seconds: float


def new_client(base_url: str) -> httpx.AsyncClient:
    # Browsers send Origin on every POST; the CSRF check needs it.
    return httpx.AsyncClient(
        base_url=base_url, headers={"Origin": base_url}, timeout=120, follow_redirects=False
    )


async def prepare(base_url: str, variant_id: int, number: int) -> ReadyBuyer:
    """Add one unit to a fresh visitor's cart and walk to the review step."""
    client = new_client(base_url)
    added = await client.post("/cart/lines", data={"variant_id": str(variant_id), "quantity": "1"})
    _expect(added, 303)
    token = _fields((await client.get("/checkout")).text)["csrf_token"]
    details = {**ADDRESS, "email": f"buyer{number}@bench.example", "csrf_token": token}
    _expect(await client.post("/checkout", data=details), 303)
    shipping = {"shipping": "standard", "csrf_token": token}
    _expect(await client.post("/checkout/shipping", data=shipping), 303)
    review = await client.get("/checkout/review")
    _expect(review, 200)
    return ReadyBuyer(client, {**_fields(review.text), "payment_method": _offline(review.text)})


def _expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, not {status}: {response.text[:300]}"
        )


def _fields(html: str) -> dict[str, str]:
    return dict(_FIELD.findall(html))


def _offline(html: str) -> str:
    """A payment method that is not the card: placing the order is what the benchmarks time,
    not a card provider's hosted-page set-up, which happens after the order is committed."""
    offline = [code for code in _PAYMENT_METHOD.findall(html) if code != CARD]
    if not offline:
        raise RuntimeError("the review page offers no payment method but the card")
    return offline[0]


async def prepare_many(
    base_url: str, variant_ids: list[int], parallel: int = 20
) -> list[ReadyBuyer]:
    gate = asyncio.Semaphore(parallel)

    async def one(number: int, variant_id: int) -> ReadyBuyer:
        async with gate:
            return await prepare(base_url, variant_id, number)

    return list(await asyncio.gather(*(one(n, v) for n, v in enumerate(variant_ids))))


async def place(buyer: ReadyBuyer) -> Outcome:
    started = time.perf_counter()
    response = await buyer.client.post("/checkout/place-order", data=buyer.form)
    seconds = time.perf_counter() - started
    placed = response.status_code == 303 and "/orders/" in response.headers.get("location", "")
    # The page a loser sees: "Some items are no longer available … Nothing was ordered."
    sold_out = response.status_code == 422 and "no longer available" in response.text
    return Outcome(response.status_code, placed, sold_out, seconds)


async def close_all(buyers: list[ReadyBuyer]) -> None:
    await asyncio.gather(*(buyer.client.aclose() for buyer in buyers))
