"""The one purge interface, and its Varnish implementation.

`EdgePurger.purge_keys(keys)` makes an edge treat every object tagged with any of `keys` as
stale (a soft purge: served while the new page is fetched, and while the origin is down). The
job talks to a list of them, one per EDGE_PURGE_URL entry. A Fastly or Cloudflare purger is a
class with the same method (docs/edge.md says which API calls they make).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import httpx

from app.settings import Settings

# Varnish refuses request headers longer than 8 KiB (http_req_hdr_len); keys go in chunks.
MAX_HEADER_CHARS = 4000
TIMEOUT_SECONDS = 5.0


class PurgeFailed(Exception):
    """An edge did not confirm the purge (unreachable, refused, or an error status)."""


class EdgePurger(Protocol):
    name: str

    async def purge_keys(self, keys: Sequence[str]) -> None: ...


def _chunks(keys: Sequence[str], limit: int = MAX_HEADER_CHARS) -> Iterator[list[str]]:
    chunk: list[str] = []
    length = 0
    for key in keys:
        if chunk and length + len(key) + 1 > limit:
            yield chunk
            chunk, length = [], 0
        chunk.append(key)
        length += len(key) + 1
    if chunk:
        yield chunk


class VarnishPurger:
    """`PURGE /` with `xkey-soft: <keys>` (cdn/default.vcl); the edge must list the sender in
    its `purgers` ACL."""

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.name = url
        self.url = url.rstrip("/") + "/"
        self.client = client

    async def purge_keys(self, keys: Sequence[str]) -> None:
        for chunk in _chunks(keys):
            try:
                response = await self.client.request(
                    "PURGE", self.url, headers={"xkey-soft": " ".join(chunk)}
                )
            except httpx.HTTPError as exc:
                raise PurgeFailed(f"{self.name}: {exc!r}") from exc
            if response.status_code != 200:
                raise PurgeFailed(f"{self.name}: HTTP {response.status_code} {response.text[:200]}")


def edge_urls(settings: Settings) -> list[str]:
    """EDGE_PURGE_URL: one edge, or several separated by commas; empty means none."""
    return [url.strip() for url in settings.edge_purge_url.split(",") if url.strip()]


def purgers_for(settings: Settings, client: httpx.AsyncClient) -> list[EdgePurger]:
    return [VarnishPurger(url, client) for url in edge_urls(settings)]
