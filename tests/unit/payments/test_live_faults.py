"""Faults that need the simulator to deliver webhooks itself, to a shop served by hypercorn with
its own arq worker (as in production): the app stopped between the payment and the return,
webhooks delayed, webhooks held and then sent newest first (out of order)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis as sync_redis
from starlette.datastructures import Secret

from app.devstack.mailsink import LocalMailSink
from app.devstack.paysim import WEBHOOK_PATH, LocalPaymentSimulator
from app.devstack.ports import free_port, wait_for_port
from app.devstack.postgres import LocalPostgres
from app.devstack.processes import start_web, start_worker, stop_process
from app.devstack.redis_server import LocalRedis
from app.orders import service as orders
from app.settings import Settings
from app.workers.heartbeat import HEARTBEAT_KEY
from tests.conftest import (
    _FREE_LIVE_REDIS_DATABASES,
    SEEDED_TEMPLATE,
    _take_live_redis,
    _wait_for_heartbeat,
    payment_account,
)
from tests.factories.orders import make_order
from tests.factories.payments import (
    GOOD_CARD,
    flush_held_webhooks,
    local_path,
    pay_on_hosted_page,
    set_faults,
    sim_events,
)
from tests.unit.payments.test_flow import _paid_count, _scalar

pytestmark = pytest.mark.anyio


@dataclass
class LiveShop:
    """hypercorn + an arq worker on a database of their own; stop and start again at will."""

    url: str
    port: int
    env: dict[str, str]
    settings: Settings
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        client = sync_redis.Redis.from_url(self.settings.redis_url)
        try:
            client.delete(HEARTBEAT_KEY)  # so the wait below waits for the new worker
        finally:
            client.close()
        self.processes = [start_web("127.0.0.1", self.port, self.env), start_worker(self.env)]
        wait_for_port(self.port, 30, "hypercorn")
        _wait_for_heartbeat(self.settings.redis_url, self.processes[1])

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_process(process)
        self.processes = []


@pytest.fixture
def live_shop(
    postgres: LocalPostgres, templates_ready: None, redis_server: LocalRedis, static_dir: Path,
    media_dir: Path, mail_sink: LocalMailSink, payment_simulator: LocalPaymentSimulator,
) -> Iterator[LiveShop]:  # fmt: skip
    name = f"live_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name, template=SEEDED_TEMPLATE)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stripe = payment_account(payment_simulator, f"{url}{WEBHOOK_PATH}")
    redis_url = _take_live_redis(redis_server)
    env = {
        **os.environ, "EDGECART_ENV": "test", "DATABASE_URL": postgres.url(name),
        "REDIS_URL": redis_url, "SMTP_URL": mail_sink.url, "SITE_URL": url,
        "STATIC_DIR": str(static_dir), "MEDIA_DIR": str(media_dir), **stripe,
    }  # fmt: skip
    settings = Settings(
        environment="test", database_url=postgres.url(name), redis_url=redis_url,
        smtp_url=mail_sink.url, site_url=url, static_dir=static_dir, media_dir=media_dir,
        db_pool_size=2, log_json=False, stripe_api_base=stripe["STRIPE_API_BASE"],
        stripe_secret_key=Secret(stripe["STRIPE_SECRET_KEY"]),
        stripe_webhook_secret=Secret(stripe["STRIPE_WEBHOOK_SECRET"]),
    )  # fmt: skip
    shop = LiveShop(url, port, env, settings)
    try:
        shop.start()
        yield shop
    finally:
        shop.stop()
        _FREE_LIVE_REDIS_DATABASES.append(int(redis_url.rsplit("/", 1)[1]))
        postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _hosted_page(shop: LiveShop, number: str) -> str:
    key = orders.guest_token(str(shop.settings.secret_key), number)
    async with httpx.AsyncClient(base_url=shop.url, headers={"Origin": shop.url}) as http:
        started = await http.post(f"/orders/{number}/pay", data={"key": key})
    assert started.status_code == 303, started.text
    return started.headers["location"]


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for a condition; the limit only stops a broken run from hanging."""
    deadline = time.monotonic() + 60
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within 60 s")
        await asyncio.sleep(0.1)


async def _is_paid(shop: LiveShop, number: str) -> bool:
    return (await _paid_count(shop.settings, number))[2] == "paid"


async def test_the_app_stopped_between_payment_and_return_is_paid_once_after_restart(
    live_shop: LiveShop, mail_sink: LocalMailSink
) -> None:
    email = f"restart-{uuid.uuid4().hex[:8]}@example.com"
    order = await make_order(live_shop.settings, email=email)
    hosted = await _hosted_page(live_shop, order.number)

    live_shop.stop()
    paid = await pay_on_hosted_page(hosted, GOOD_CARD)

    async def delivery_failed() -> bool:
        events = await sim_events(live_shop.settings, "payment_intent.succeeded")
        return bool(events) and 0 in events[0]["deliveries"]

    await _until(delivery_failed, "a failed webhook delivery")
    live_shop.start()
    await _until(lambda: _is_paid(live_shop, order.number), "the order being paid")
    async with httpx.AsyncClient(base_url=live_shop.url) as shopper:
        back = await shopper.get(local_path(paid.headers["location"]))
        page = await shopper.get(back.headers["location"])
    mail = await asyncio.to_thread(
        mail_sink.wait_for, lambda m: m.to == email and m.subject.startswith("Payment received")
    )

    assert back.status_code == 303
    assert 'data-status="paid"' in page.text
    assert await _paid_count(live_shop.settings, order.number) == (1, 1, "paid")
    [succeeded] = await sim_events(live_shop.settings, "payment_intent.succeeded")
    assert succeeded["deliveries"][0] == 0  # the app was down
    assert succeeded["deliveries"][-1] == 200  # retried with backoff until it was back
    assert mail.subject == f"Payment received for your Edgecart order {order.number}"
    received = [m for m in mail_sink.read() if m.to == email and "Payment received" in m.subject]
    assert len(received) == 1


async def test_delayed_webhooks_after_a_closed_tab_pay_the_order_once(
    live_shop: LiveShop,
) -> None:
    order = await make_order(live_shop.settings)
    hosted = await _hosted_page(live_shop, order.number)
    await set_faults(live_shop.settings, webhooks="delay", webhook_delay_ms=1500, close_tab=True)

    paid = await pay_on_hosted_page(hosted, GOOD_CARD)
    right_after = await _paid_count(live_shop.settings, order.number)
    await _until(lambda: _is_paid(live_shop, order.number), "the order being paid")

    async def all_delivered() -> bool:
        events = await sim_events(live_shop.settings)
        return all(event["deliveries"] == [200] for event in events)

    await _until(all_delivered, "every webhook being delivered")

    assert "You may close this tab" in paid.text
    assert right_after == (0, 0, "pending_payment")
    assert await _paid_count(live_shop.settings, order.number) == (1, 1, "paid")


async def test_webhooks_out_of_order_after_a_decline_change_nothing_twice(
    live_shop: LiveShop,
) -> None:
    order = await make_order(live_shop.settings)
    hosted = await _hosted_page(live_shop, order.number)
    await set_faults(live_shop.settings, webhooks="hold", close_tab=True)
    await pay_on_hosted_page(hosted, "4000 0000 0000 0002")  # declined first
    await pay_on_hosted_page(hosted, GOOD_CARD)

    sent = await flush_held_webhooks(live_shop.settings)  # newest first: "failed" comes last

    async def all_delivered() -> bool:
        events = await sim_events(live_shop.settings)
        return all(event["deliveries"] == [200] for event in events)

    await _until(all_delivered, "every held webhook being delivered")
    types = [event["type"] for event in await sim_events(live_shop.settings)]

    assert sent == 3
    assert types == [
        "payment_intent.payment_failed", "payment_intent.succeeded", "checkout.session.completed",
    ]  # fmt: skip
    assert await _paid_count(live_shop.settings, order.number) == (1, 1, "paid")
    assert await _scalar(live_shop.settings, "SELECT state FROM payment") == "captured"
