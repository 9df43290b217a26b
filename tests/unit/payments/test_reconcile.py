"""The reconciliation job against the payment simulator through the real Stripe SDK: orders
whose success never reached the shop are paid once; unpaid ones are closed at the provider and
cancelled only then; a provider that is down changes nothing; money that paid no order is
given back. Webhooks are not delivered by the simulator here (its account has no endpoint):
the test delivers them, or not, as the fault it plays needs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.db import create_engine, create_sessionmaker, transaction
from app.inventory import service as inventory
from app.orders import service as orders
from app.payments import service as payments
from app.payments.gateways import create_gateway
from app.payments.reconcile import Reconciled, reconcile_payments
from app.payments.tasks import reconcile_payments as reconcile_job
from app.settings import Settings
from tests.conftest import _client_for
from tests.factories.db import session_for
from tests.factories.orders import make_order
from tests.factories.payments import (
    GOOD_CARD,
    clear_faults,
    deliver,
    local_path,
    pay_on_hosted_page,
    set_faults,
    sim_events,
)
from tests.unit.payments.test_flow import _hosted_page, _paid_count, _scalar

pytestmark = pytest.mark.anyio
LATER = timedelta(minutes=6)  # past PAYMENT_RECONCILE_AFTER_MINUTES (5)


async def _reconcile(settings: Settings, now: datetime) -> Reconciled:
    engine = create_engine(settings)
    gateway = create_gateway(settings)
    try:
        return await reconcile_payments(create_sessionmaker(engine), gateway, settings, now)
    finally:
        await gateway.aclose()
        await engine.dispose()


async def _stock_state(settings: Settings, number: str) -> object:
    return await _scalar(
        settings, "SELECT string_agg(status, ',') FROM stock_reservation WHERE reference = :n",
        n=number,
    )  # fmt: skip


@pytest.fixture
async def manual(settings: Settings) -> AsyncIterator[tuple[Settings, httpx.AsyncClient]]:
    """The shop in manual capture mode, with a 1-second provider timeout."""
    changed = replace(settings, stripe_capture="manual", stripe_timeout_seconds=1)
    async with _client_for(changed) as shop:
        yield changed, shop


async def test_a_capture_that_times_out_is_finished_by_reconciliation_paid_once(
    manual: tuple[Settings, httpx.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    settings, shop = manual
    order = await make_order(settings)
    await pay_on_hosted_page(await _hosted_page(shop, settings, order.number), GOOD_CARD)
    [authorized] = await sim_events(settings, "payment_intent.amount_capturable_updated")
    await set_faults(settings, hang_next=1, hang_seconds=3)  # the capture call hangs past 1 s

    with caplog.at_level(logging.WARNING, logger="edgecart.payments"):
        webhook = await deliver(shop, authorized)
    before = await _paid_count(settings, order.number)
    done = await _reconcile(settings, datetime.now(UTC) + LATER)
    again = await _reconcile(settings, datetime.now(UTC) + LATER)

    assert webhook.json()["outcome"] == "applied: authorized"
    assert any("capture failed" in record.getMessage() for record in caplog.records)
    assert before == (0, 0, "pending_payment")
    assert (done.checked, done.paid) == (1, 1)
    assert (again.checked, again.paid) == (0, 0)
    assert await _paid_count(settings, order.number) == (1, 1, "paid")
    assert len(await sim_events(settings, "payment_intent.succeeded")) == 1  # one capture
    assert await _stock_state(settings, order.number) == "committed"


async def test_tab_closed_and_webhook_dropped_the_job_pays_the_order_once(
    client: httpx.AsyncClient, settings: Settings, job_context: dict[str, Any]
) -> None:
    order = await make_order(settings)
    hosted = await _hosted_page(client, settings, order.number)
    await set_faults(settings, close_tab=True, webhooks="drop")
    paid = await pay_on_hosted_page(hosted, GOOD_CARD)
    # The attempt started minutes ago, as far as the job can tell.
    async with session_for(settings.database_url) as session:
        await session.execute(text("UPDATE payment SET created_at = now() - interval '10 minutes'"))
    waiting = await client.get(f"/orders/{order.number}", params={
        "key": orders.guest_token(str(settings.secret_key), order.number)})  # fmt: skip

    result = await reconcile_job(job_context)
    page = await client.get(f"/orders/{order.number}", params={
        "key": orders.guest_token(str(settings.secret_key), order.number)})  # fmt: skip
    late = [await deliver(client, event) for event in await sim_events(settings)]

    assert paid.status_code == 200
    assert "You may close this tab" in paid.text
    assert 'data-status="pending_payment"' in waiting.text
    assert result["paid"] == 1
    assert 'data-status="paid"' in page.text
    assert all(response.status_code == 200 for response in late)  # late webhooks: no change
    assert await _paid_count(settings, order.number) == (1, 1, "paid")


async def test_the_provider_down_cancels_nothing_and_the_next_run_closes_the_order(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    order = await make_order(settings)
    await _hosted_page(client, settings, order.number)  # the shopper never pays
    over = datetime.now(UTC) + timedelta(
        minutes=settings.payment_window_minutes + settings.payment_grace_minutes + 1
    )
    engine = create_engine(settings)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            keep = await payments.orders_awaiting_provider(session)
            expired = await orders.cancel_expired_orders(session, over, keep=keep)
            released = await inventory.release_expired(session, over, keep=keep)
    finally:
        await engine.dispose()
    await set_faults(settings, fail_next=10, fail_status=503)

    down = await _reconcile(settings, over)
    status_while_down = await _paid_count(settings, order.number)
    stock_while_down = await _stock_state(settings, order.number)
    await clear_faults(settings)
    back = await _reconcile(settings, over)

    assert (keep, expired, released) == ([order.number], [], [])
    assert (down.checked, down.skipped, down.cancelled) == (1, 1, 0)
    assert status_while_down == (0, 0, "pending_payment")
    assert stock_while_down == "held"
    assert (back.closed, back.cancelled) == (1, 1)
    assert await _paid_count(settings, order.number) == (0, 0, "cancelled")
    assert await _stock_state(settings, order.number) == "released"
    assert len(await sim_events(settings, "checkout.session.expired")) == 1
    actor = await _scalar(
        settings, "SELECT actor FROM order_status_change WHERE to_status = 'cancelled'"
    )
    assert actor == "payment reconciliation"


async def test_an_unpaid_attempt_inside_its_window_is_left_alone(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    order = await make_order(settings)
    hosted = await _hosted_page(client, settings, order.number)

    done = await _reconcile(settings, datetime.now(UTC) + LATER)
    paid = await pay_on_hosted_page(hosted, GOOD_CARD)  # the page still takes the payment
    await client.get(local_path(paid.headers["location"]))

    assert (done.checked, done.closed, done.cancelled) == (1, 0, 0)
    assert await _paid_count(settings, order.number) == (1, 1, "paid")


async def test_money_for_a_cancelled_order_is_refunded_once_automatically(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    order = await make_order(settings)
    hosted = await _hosted_page(client, settings, order.number)
    async with session_for(settings.database_url) as session:
        found = await orders.get_order(session, order.number)
        assert found is not None
        await orders.cancel_order(session, found, "support@example.com", "asked by phone")
    await pay_on_hosted_page(hosted, GOOD_CARD)  # the page was still open
    [succeeded] = await sim_events(settings, "payment_intent.succeeded")
    await deliver(client, succeeded)
    flagged = await _scalar(settings, "SELECT failure_code FROM payment")

    first = await _reconcile(settings, datetime.now(UTC))
    second = await _reconcile(settings, datetime.now(UTC))

    assert flagged == "order_cancelled"
    assert (first.refunded, second.refunded) == (1, 0)
    assert len(await sim_events(settings, "refund.created")) == 1
    row = await _scalar(
        settings, "SELECT kind || ',' || state || ',' || source || ',' || amount_minor "
        "FROM payment_transaction WHERE kind = 'refund'",
    )  # fmt: skip
    assert row == f"refund,succeeded,job,{order.total_minor}"
    assert await _scalar(settings, "SELECT state FROM payment") == "refunded"
    assert await _paid_count(settings, order.number) == (0, 0, "cancelled")
    mails = await _scalar(settings, "SELECT count(*) FROM outbox_event WHERE key LIKE 'refund:%'")
    assert mails == 1


def test_the_worker_runs_reconciliation_every_minute() -> None:
    from app.workers.settings import WorkerSettings

    [job] = [job for job in WorkerSettings.cron_jobs if job.coroutine is reconcile_job]

    assert job.second == {25}
    assert job.minute is None  # every minute
