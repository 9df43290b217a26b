"""Asking the edge to forget pages: a purge event in the caller's transaction.

Pages name what they show in surrogate keys (`product-<id>`, `variant-<id>`, `category-<id>`,
`collection-<id>`, `stock-<variant id>`, `home`, `search`; see app/web/caching.py). A change
calls `queue_purge` with the keys it touched, in the transaction of the change, so the purge
happens if and only if the change commits. The `purge_edge` job (app/edge/tasks.py) sends the
keys of all waiting purge events, de-duplicated, to every configured edge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox import service as outbox

EDGE_PURGE_KIND = "edge.purge"
# Letters, digits, dashes and underscores: safe in an HTTP header, a Fastly Surrogate-Key and a
# Cloudflare Cache-Tag alike.
_KEY = re.compile(r"[A-Za-z0-9_-]{1,100}")


class PurgeKeyError(ValueError):
    """A surrogate key no edge would accept: a programming error in the caller."""


async def queue_purge(session: AsyncSession, keys: Iterable[str]) -> int | None:
    """Purge `keys` from every edge once the caller's transaction commits; the event id, or
    None when there is nothing to purge."""
    unique = sorted(set(keys))
    for key in unique:
        if not _KEY.fullmatch(key):
            raise PurgeKeyError(f"not a surrogate key: {key!r}")
    if not unique:
        return None
    return await outbox.add_event(session, EDGE_PURGE_KIND, {"keys": unique})
