"""Rate limits in Redis, shared by every app instance: fixed windows counted with INCR.

A limit is "count/seconds" (settings). `hit` counts one attempt and says how long to wait when
the count is over the limit; `peek` and `clear` serve counters of failures (sign-in).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from redis.asyncio import Redis
from starlette.requests import Request

_PREFIX = "edgecart:rate:"


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rate:
        count, seconds = text.split("/")
        return cls(int(count), int(seconds))


class RateLimited(Exception):
    """Over the limit; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


def limit_key(kind: str, who: str) -> str:
    """A counter's key; `who` (an address, an e-mail) is hashed so Redis holds no personal data."""
    return f"{_PREFIX}{kind}:{hashlib.sha256(who.encode()).hexdigest()[:32]}"


async def hit(redis: Redis, key: str, rate: Rate) -> None:
    """Count one attempt; raises RateLimited when it is over the limit."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, rate.seconds, nx=True)
        pipe.ttl(key)
        count, _, ttl = await pipe.execute()
    if int(count) > rate.count:
        raise RateLimited(max(1, int(ttl)))


async def peek(redis: Redis, key: str) -> tuple[int, int]:
    """(count so far, seconds left in the window)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(key)
        pipe.ttl(key)
        count, ttl = await pipe.execute()
    return int(count or 0), max(1, int(ttl))


async def clear(redis: Redis, key: str) -> None:
    await redis.delete(key)


async def hit_per_address(request: Request, kind: str, rate: str) -> None:
    """Count one `kind` attempt from the visitor's address against `rate` ("count/seconds");
    raises RateLimited when it is over."""
    key = limit_key(kind, client_address(request))
    await hit(request.app.state.redis, key, Rate.parse(rate))


def client_address(request: Request) -> str:
    """The visitor's IP: the peer itself, or the first X-Forwarded-For hop when the peer is a
    trusted proxy (the edge)."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in request.app.state.settings.trusted_proxies:
        return forwarded.split(",")[0].strip()[:64] or peer
    return peer
