"""The worker job behind `edge.purge` outbox events: soft purges by surrogate key.

A change writes one event with the keys it touched; a busy shop writes many per second. The job
of any one event takes every purge event still waiting (up to BATCH_SIZE, rows other jobs hold
are skipped), sends the union of their keys once to every edge, and marks them all done in the
same transaction. The other events' jobs then find nothing to do. If any edge fails, nothing is
marked done and arq tries again later: purges are idempotent, so an edge that did purge the
first time loses nothing by purging again.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from arq import Retry

from app.db import transaction
from app.edge.purging import TIMEOUT_SECONDS, PurgeFailed, purgers_for
from app.edge.service import EDGE_PURGE_KIND
from app.outbox import service as outbox

logger = logging.getLogger(__name__)
BATCH_SIZE = 500


async def purge_edge(ctx: dict[str, Any], event_id: int) -> str:
    async with transaction(ctx["sessionmaker"]) as session:
        events = await outbox.lock_pending_events(session, EDGE_PURGE_KIND, BATCH_SIZE)
        if not events:
            return "skipped: purged already"
        keys = sorted({key for event in events for key in event.payload["keys"]})
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            purgers = purgers_for(ctx["settings"], client)
            try:
                for purger in purgers:
                    await purger.purge_keys(keys)
            except PurgeFailed as exc:
                tries = int(ctx.get("job_try", 1))
                logger.warning("edge purge of %s keys failed (try %s): %s", len(keys), tries, exc)
                raise Retry(defer=min(2 * tries**2, 60)) from exc
        await outbox.mark_done_many(session, [event.id for event in events if event.id])
    return f"{len(keys)} keys from {len(events)} events to {len(purgers)} edges"
