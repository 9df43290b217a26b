"""The worker's heartbeat: `edgecart check` and the metrics read it to tell a worker is alive."""

from __future__ import annotations

import time
from typing import Any

HEARTBEAT_KEY = "edgecart:worker:heartbeat"
HEARTBEAT_TTL = 60


async def record_heartbeat(ctx: dict[str, Any]) -> float:
    now = time.time()
    await ctx["redis"].set(HEARTBEAT_KEY, str(now), ex=HEARTBEAT_TTL)
    return now
