"""The one Redis client: sessions, caches, rate limits and the job queue all go through it."""

from __future__ import annotations

from redis.asyncio import Redis

from app.settings import Settings


def create_redis(settings: Settings) -> Redis:
    client: Redis = Redis.from_url(
        settings.redis_url, decode_responses=True, health_check_interval=30
    )
    return client


async def ping(client: Redis) -> None:
    await client.ping()
