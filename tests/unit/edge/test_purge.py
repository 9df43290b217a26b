"""Purge events are written with the change, and one job sends each key once to every edge.

The edges here are small HTTP servers that record what they are sent (the real Varnish is in
tests/e2e/test_edge.py): they show which PURGE requests the job makes, which a real edge hides.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from arq import Retry
from sqlalchemy import text

from app.catalog import service as catalog
from app.devstack.ports import free_port
from app.edge.service import EDGE_PURGE_KIND, PurgeKeyError, queue_purge
from app.edge.tasks import purge_edge
from app.inventory import service as inventory
from app.settings import Settings
from tests.factories.catalog import make_product
from tests.factories.db import session_for
from tests.factories.outbox import count_events, event_times

pytestmark = pytest.mark.anyio


class RecordingEdge:
    """Answers every request 200 and keeps its method and headers."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        request_line, *lines = head.strip().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines)
        self.requests.append((request_line.split()[0], {k.lower(): v for k, v in headers.items()}))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def edges() -> AsyncIterator[list[RecordingEdge]]:
    started = [RecordingEdge(), RecordingEdge()]
    for edge in started:
        edge.url = await edge.start()  # type: ignore[attr-defined]
    yield started
    for edge in started:
        await edge.stop()


async def _pending_purge_keys(database_url: str) -> list[list[str]]:
    async with session_for(database_url) as session:
        rows = await session.execute(
            text("SELECT payload FROM outbox_event WHERE kind = :kind ORDER BY id"),
            {"kind": EDGE_PURGE_KIND},
        )
        return [payload["keys"] for payload in rows.scalars()]


async def test_a_price_change_writes_its_purge_in_the_same_transaction(
    settings: Settings,
) -> None:
    async with session_for(settings.database_url) as session:
        made = await make_product(session, title="Priced Mug", stock=(3,))
    before = await _pending_purge_keys(settings.database_url)

    # A change that rolls back purges nothing
    async def change_then_fail() -> None:
        async with session_for(settings.database_url) as session:
            await catalog.change_price(session, made.variant_ids[0], 999)
            raise RuntimeError("the request failed after the change")

    with pytest.raises(RuntimeError):
        await change_then_fail()
    assert await _pending_purge_keys(settings.database_url) == before

    # A committed one purges the product's pages and the variant's
    async with session_for(settings.database_url) as session:
        await catalog.change_price(session, made.variant_ids[0], 999)
    keys = (await _pending_purge_keys(settings.database_url))[-1]
    assert f"product-{made.id}" in keys
    assert f"variant-{made.variant_ids[0]}" in keys


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("update_product", ["product-{product}"]),
        ("feature_product", ["home", "product-{product}"]),
        ("update_category", ["category-{category}"]),
        ("update_collection", ["collection-{collection}", "home"]),
        ("sell_out", ["stock-{variant}", "variant-{variant}"]),
    ],
    ids=["product", "home-content", "category", "collection", "stock-status"],
)
async def test_every_catalog_and_stock_change_purges_what_it_touched(
    settings: Settings, change: str, expected: list[str]
) -> None:
    async with session_for(settings.database_url) as session:
        made = await make_product(session, title="Changing Mug", stock=(2,))
        category = (
            await session.execute(
                text("SELECT category_id FROM product WHERE id = :id"), {"id": made.id}
            )
        ).scalar_one()
        collection = (await session.execute(text("SELECT min(id) FROM collection"))).scalar_one()
    ids = {"product": made.id, "variant": made.variant_ids[0], "category": category,
           "collection": collection}  # fmt: skip
    async with session_for(settings.database_url) as session:
        match change:
            case "update_product":
                await catalog.update_product(session, made.id, title="Renamed Mug")
            case "feature_product":
                await catalog.update_product(session, made.id, featured=True)
            case "update_category":
                await catalog.update_category(session, category, name="Renamed things")
            case "update_collection":
                await catalog.update_collection(session, collection, title="Renamed")
            case "sell_out":
                await inventory.restock(session, made.variant_ids[0], -2, actor="test")

    assert (await _pending_purge_keys(settings.database_url))[-1] == [
        key.format(**ids) for key in expected
    ]


async def test_a_key_no_edge_would_take_is_refused(settings: Settings) -> None:
    with pytest.raises(PurgeKeyError):
        async with session_for(settings.database_url) as session:
            await queue_purge(session, ["product 1\r\nX-Evil: 1"])


async def test_one_job_sends_the_waiting_keys_once_to_every_edge(
    settings: Settings, job_context: dict[str, Any], edges: list[RecordingEdge]
) -> None:
    # Given three committed purge events with overlapping keys and two edges
    job_context["settings"] = replace(
        settings,
        edge_purge_url=" , ".join(edge.url for edge in edges),  # type: ignore[attr-defined]
    )
    async with session_for(settings.database_url) as session:
        first = await queue_purge(session, ["product-1", "variant-7"])
        second = await queue_purge(session, ["product-1", "home"])
        third = await queue_purge(session, ["variant-7"])
    assert first
    assert second
    assert third

    # When the job of the second event runs (first and third wait for theirs)
    result = await purge_edge(job_context, second)

    # Then each edge got one soft purge of the three distinct keys, and all events are done
    assert result == "3 keys from 3 events to 2 edges"
    for edge in edges:
        assert edge.requests == [("PURGE", edge.requests[0][1])]
        assert edge.requests[0][1]["xkey-soft"] == "home product-1 variant-7"
    async with session_for(settings.database_url) as session:
        assert [await event_times(session, i) for i in (first, second, third)] == [
            (False, True)
        ] * 3
    # And the other events' jobs find nothing left to do
    assert await purge_edge(job_context, first) == "skipped: purged already"
    assert all(len(edge.requests) == 1 for edge in edges)


async def test_an_unreachable_edge_leaves_the_purge_waiting_for_a_retry(
    settings: Settings, job_context: dict[str, Any]
) -> None:
    job_context["settings"] = replace(settings, edge_purge_url=f"http://127.0.0.1:{free_port()}")
    async with session_for(settings.database_url) as session:
        event = await queue_purge(session, ["product-1"])
    assert event is not None

    with pytest.raises(Retry):
        await purge_edge(job_context, event)

    async with session_for(settings.database_url) as session:
        assert await event_times(session, event) == (False, False)
        assert await count_events(session, EDGE_PURGE_KIND) >= 1
