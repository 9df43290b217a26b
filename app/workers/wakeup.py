"""Relay the outbox the moment a transaction that wrote to it commits.

`outbox.add_event` sends `NOTIFY outbox_event` inside the writing transaction; PostgreSQL
delivers it on commit only. Each worker LISTENs on one connection of its own and runs the relay
when woken, so an edge purge or a mail is queued within milliseconds of the commit instead of
at the next tick of the every-second cron, which stays as the safety net (a notification sent
while no worker listened, a lost connection). Several workers woken together take disjoint
batches (SKIP LOCKED in the relay).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from app.outbox.service import NOTIFY_CHANNEL
from app.workers.relay import relay_outbox

logger = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0


def _libpq_url(database_url: str) -> str:
    """The SQLAlchemy URL (postgresql+psycopg://…) as psycopg itself takes it."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def _listen(ctx: dict[str, Any], woken: asyncio.Event) -> None:
    url = _libpq_url(ctx["settings"].database_url)
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
                await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                woken.set()  # anything committed while we were not listening
                async for _ in connection.notifies():
                    woken.set()
        except (psycopg.Error, OSError) as exc:
            logger.warning("outbox wake-up connection lost, retrying: %s", exc)
        await asyncio.sleep(RECONNECT_SECONDS)


async def _relay_when_woken(ctx: dict[str, Any], woken: asyncio.Event) -> None:
    while True:
        await woken.wait()
        woken.clear()  # notifications arriving during this run wake the next one
        try:
            await relay_outbox(ctx)
        except Exception:
            # The cron relays on the next second; this loop must outlive a bad moment.
            logger.exception("outbox relay after a wake-up failed")
            await asyncio.sleep(RECONNECT_SECONDS)


def start_wakeup(ctx: dict[str, Any]) -> None:
    woken = asyncio.Event()
    ctx["outbox_wakeup"] = [
        asyncio.create_task(_listen(ctx, woken), name="outbox-listen"),
        asyncio.create_task(_relay_when_woken(ctx, woken), name="outbox-relay-on-commit"),
    ]


async def stop_wakeup(ctx: dict[str, Any]) -> None:
    tasks: list[asyncio.Task[None]] = ctx.pop("outbox_wakeup", [])
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
