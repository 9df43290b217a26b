"""The outbox relay: hands committed outbox events to arq, each exactly once.

It runs every second on some worker (and at worker start). One batch is one transaction: lock
up to BATCH_SIZE unrelayed events (SKIP LOCKED, so relays on other workers take other rows),
enqueue one job per event, mark them relayed, commit. A relay that dies after enqueueing and
before committing leaves its events unrelayed; the next run enqueues them again under the same
arq job id, which arq ignores while it still knows the job. The jobs themselves skip events
already done, for the rare repeat that gets through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from arq.connections import ArqRedis

from app.db import SessionMaker, transaction
from app.edge.service import EDGE_PURGE_KIND
from app.edge.tasks import purge_edge
from app.inventory.service import STOCK_STATUS_KIND
from app.inventory.tasks import refresh_stock_status
from app.notifications.service import EMAIL_KIND
from app.notifications.tasks import send_email
from app.outbox import service as outbox

Job = Callable[[dict[str, Any], int], Awaitable[str]]

# The job for each kind of outbox event. A new kind of side effect adds its job here; every job
# takes (ctx, event_id) and is registered with the worker through this mapping.
JOBS_BY_KIND: Mapping[str, Job] = {
    EMAIL_KIND: send_email,
    STOCK_STATUS_KIND: refresh_stock_status,
    EDGE_PURGE_KIND: purge_edge,
}

BATCH_SIZE = 100
# One run stops after this many full batches so that a backlog is shared out between the
# runs of the next seconds (and other workers) instead of pinning one job past its timeout.
MAX_BATCHES_PER_RUN = 20


def job_id_for(event_id: int) -> str:
    return f"outbox:{event_id}"


async def relay_batch(
    sessionmaker: SessionMaker, queue: ArqRedis, limit: int = BATCH_SIZE
) -> list[int]:
    """Relay one batch in one transaction; the ids of the events handed over."""
    async with transaction(sessionmaker) as session:
        events = await outbox.claim_unrelayed(session, JOBS_BY_KIND.keys(), limit)
        event_ids: list[int] = []
        for event in events:
            assert event.id is not None  # a row read from the table has its id
            job = JOBS_BY_KIND[event.kind]
            # None back means arq holds this job (or its result) already: nothing to add.
            await queue.enqueue_job(job.__name__, event.id, _job_id=job_id_for(event.id))
            event_ids.append(event.id)
        if event_ids:
            await outbox.mark_relayed(session, event_ids)
    return event_ids


async def relay_outbox(ctx: dict[str, Any]) -> int:
    """The arq job: relay batches until the outbox is drained or this run's share is done."""
    relayed = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        batch = await relay_batch(ctx["sessionmaker"], ctx["redis"])
        relayed += len(batch)
        if len(batch) < BATCH_SIZE:
            break
    return relayed
