"""The gateway circuit breaker in a real Redis: opens after repeated failures, lets one trial
through after the cool-down, closes on success and re-opens at once on a failed trial."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import anyio
import pytest
from redis.asyncio import Redis

from app.payments.breaker import BreakerPolicy, CircuitBreaker

pytestmark = pytest.mark.anyio


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def breaker(redis: Redis, cooldown: int = 60) -> CircuitBreaker:
    return CircuitBreaker(redis, "stripe", BreakerPolicy(failures=3, window_seconds=30,
                                                         cooldown_seconds=cooldown))  # fmt: skip


async def wait_for_state(subject: CircuitBreaker, state: str) -> None:
    """Poll Redis until the cool-down has run out (the key's expiry is Redis's own clock)."""
    with anyio.fail_after(5):
        while True:
            if (await subject.status()).state == state:
                return
            await asyncio.sleep(0.05)


async def test_stays_closed_below_the_threshold(redis: Redis) -> None:
    subject = breaker(redis)
    await subject.record_failure("timed out")
    await subject.record_failure("timed out")
    assert (await subject.status()).state == "closed"
    assert await subject.allow()


async def test_a_success_forgets_earlier_failures(redis: Redis) -> None:
    subject = breaker(redis)
    await subject.record_failure("timed out")
    await subject.record_failure("timed out")
    await subject.record_success()
    await subject.record_failure("timed out")
    assert (await subject.status()).state == "closed"


async def test_opens_after_the_threshold_and_says_why(redis: Redis) -> None:
    subject = breaker(redis)
    for _ in range(3):
        await subject.record_failure("the provider is not responding")
    status = await subject.status()
    assert (status.state, status.reason) == ("open", "the provider is not responding")
    assert not await subject.allow()


async def test_every_instance_sees_the_same_state(redis: Redis, redis_url: str) -> None:
    for _ in range(3):
        await breaker(redis).record_failure("errors")
    other = Redis.from_url(redis_url, decode_responses=True)
    try:
        assert not await breaker(other).allow()
    finally:
        await other.aclose()


async def test_after_the_cooldown_one_trial_goes_through(redis: Redis) -> None:
    subject = breaker(redis, cooldown=1)
    for _ in range(3):
        await subject.record_failure("errors")
    await wait_for_state(subject, "half_open")
    answers = await asyncio.gather(*(subject.allow() for _ in range(5)))
    assert sorted(answers) == [False, False, False, False, True]


async def test_a_successful_trial_closes_it(redis: Redis) -> None:
    subject = breaker(redis, cooldown=1)
    for _ in range(3):
        await subject.record_failure("errors")
    await wait_for_state(subject, "half_open")
    assert await subject.allow()
    await subject.record_success()
    assert (await subject.status()).state == "closed"
    assert await subject.allow()
    assert await subject.allow()


async def test_a_failed_trial_opens_it_again_at_once(redis: Redis) -> None:
    subject = breaker(redis, cooldown=1)
    for _ in range(3):
        await subject.record_failure("errors")
    await wait_for_state(subject, "half_open")
    assert await subject.allow()
    await subject.record_failure("still failing")
    status = await subject.status()
    assert (status.state, status.reason) == ("open", "still failing")


async def test_reset_closes_it(redis: Redis) -> None:
    subject = breaker(redis)
    for _ in range(3):
        await subject.record_failure("errors")
    await subject.reset()
    assert await subject.allow()
