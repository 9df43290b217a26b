"""The relay hands each committed event to arq once, however many relays run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from arq.connections import ArqRedis

from app.outbox.service import add_event, claim_unrelayed
from app.settings import Settings
from app.workers.relay import JOBS_BY_KIND, job_id_for, relay_batch, relay_outbox
from tests.factories.db import session_for
from tests.factories.outbox import event_times, forget_relay

pytestmark = pytest.mark.anyio


async def _add_events(settings: Settings, count: int, kind: str = "email") -> list[int]:
    async with session_for(settings.database_url) as session:
        ids = [await add_event(session, kind, {"n": n}) for n in range(count)]
    return [event_id for event_id in ids if event_id is not None]


async def _queued_job_ids(queue: ArqRedis) -> list[str]:
    return sorted(job.job_id or "" for job in await queue.queued_jobs())


async def test_relays_side_by_side_claim_disjoint_events(
    settings: Settings, job_context: dict[str, Any]
) -> None:
    all_ids = await _add_events(settings, 10)
    sessionmaker = job_context["sessionmaker"]

    # Both transactions stay open, as two relays on two workers would be mid-batch.
    async with sessionmaker() as first, first.begin(), sessionmaker() as second, second.begin():
        taken_first = [e.id for e in await claim_unrelayed(first, JOBS_BY_KIND.keys(), 6)]
        taken_second = [e.id for e in await claim_unrelayed(second, JOBS_BY_KIND.keys(), 6)]

    assert len(taken_first) == 6
    assert len(taken_second) == 4
    assert not set(taken_first) & set(taken_second)
    assert sorted(taken_first + taken_second) == sorted(all_ids)


async def test_two_relays_at_once_hand_each_event_over_once(
    settings: Settings, job_context: dict[str, Any]
) -> None:
    all_ids = await _add_events(settings, 120)

    async def drain() -> list[int]:
        relayed: list[int] = []
        while batch := await relay_batch(job_context["sessionmaker"], job_context["redis"], 7):
            relayed += batch
        return relayed

    first, second = await asyncio.gather(drain(), drain())

    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(all_ids)
    assert await _queued_job_ids(job_context["redis"]) == sorted(map(job_id_for, all_ids))


async def test_a_relay_rerun_after_a_crash_enqueues_the_job_once(
    settings: Settings, job_context: dict[str, Any]
) -> None:
    [event_id] = await _add_events(settings, 1)
    assert await relay_outbox(job_context) == 1
    async with session_for(settings.database_url) as session:
        await forget_relay(session, event_id)

    assert await relay_outbox(job_context) == 1

    assert await _queued_job_ids(job_context["redis"]) == [job_id_for(event_id)]
    async with session_for(settings.database_url) as session:
        assert await event_times(session, event_id) == (True, False)


async def test_an_event_no_worker_knows_waits_without_holding_up_the_rest(
    settings: Settings, job_context: dict[str, Any]
) -> None:
    [unknown] = await _add_events(settings, 1, kind="from_a_newer_release")
    [known] = await _add_events(settings, 1)

    assert await relay_outbox(job_context) == 1

    async with session_for(settings.database_url) as session:
        assert await event_times(session, unknown) == (False, False)
        assert await event_times(session, known) == (True, False)
