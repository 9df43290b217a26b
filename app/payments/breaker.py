"""A circuit breaker per payment gateway, kept in Redis so every app instance sees the same state.

- closed: calls go through; failures (timeouts, connection errors, 5xx — never a declined card)
  are counted in a fixed window, and `failures` of them open the breaker;
- open: no calls for `cooldown` seconds; checkout offers the other methods and says why;
- half-open: after the cool-down one trial call at a time is let through; a success closes the
  breaker, a failure opens it again at once.

Recovery is automatic: nobody has to close a breaker by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis

_PREFIX = "edgecart:breaker:"
PROBATION_SECONDS = 86_400  # how long a breaker that opened stays "on probation" without traffic
TRIAL_SECONDS = 15  # one trial call at a time in half-open; a trial that never reports expires

State = Literal["closed", "open", "half_open"]


@dataclass(frozen=True)
class BreakerPolicy:
    failures: int = 3
    window_seconds: int = 30
    cooldown_seconds: int = 20


@dataclass(frozen=True)
class BreakerStatus:
    state: State
    reason: str  # why it opened, in plain words ("" when closed)


class CircuitBreaker:
    def __init__(self, redis: Redis, name: str, policy: BreakerPolicy) -> None:
        self.redis = redis
        self.name = name
        self.policy = policy
        base = f"{_PREFIX}{name}:"
        self._failures = base + "failures"
        self._open = base + "open"  # holds the reason; expires when the cool-down ends
        self._probation = base + "probation"
        self._trial = base + "trial"

    async def status(self) -> BreakerStatus:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(self._open)
            pipe.exists(self._probation)
            reason, on_probation = await pipe.execute()
        if reason is not None:
            return BreakerStatus("open", reason)
        if on_probation:
            return BreakerStatus("half_open", "")
        return BreakerStatus("closed", "")

    async def allow(self) -> bool:
        """May a call go to the gateway now? In half-open only one caller at a time gets a yes."""
        status = await self.status()
        if status.state == "closed":
            return True
        if status.state == "open":
            return False
        return bool(await self.redis.set(self._trial, "1", nx=True, ex=TRIAL_SECONDS))

    async def record_success(self) -> None:
        await self.redis.delete(self._failures, self._probation, self._trial)

    async def record_failure(self, reason: str) -> None:
        status = await self.status()
        if status.state == "open":
            return
        if status.state == "half_open":
            await self._trip(reason)
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._failures)
            pipe.expire(self._failures, self.policy.window_seconds, nx=True)
            count, _ = await pipe.execute()
        if int(count) >= self.policy.failures:
            await self._trip(reason)

    async def _trip(self, reason: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._open, reason, ex=self.policy.cooldown_seconds)
            pipe.set(self._probation, "1", ex=PROBATION_SECONDS)
            pipe.delete(self._failures, self._trial)
            await pipe.execute()

    async def reset(self) -> None:
        """Close the breaker (tests, and an operator who knows the provider is back)."""
        await self.redis.delete(self._failures, self._open, self._probation, self._trial)
