"""Server-side sessions in Redis, keyed by an opaque token the browser holds in a cookie.

Free of HTTP: `app/web/sessions.py` moves tokens in and out of cookies. Redis keeps the
session under a hash of the token, so a copy of Redis holds no usable session ids. Idle
expiry is the key's TTL, refreshed on use; absolute expiry is checked against `created_at`.
Each account has a set of its session keys, so "sign out everywhere" can find them all.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field

from redis.asyncio import Redis

_SESSION = "edgecart:session:"
_ACCOUNT_SESSIONS = "edgecart:account-sessions:"


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int
    absolute_seconds: int


SHOPPER_POLICY = SessionPolicy(idle_seconds=14 * 86400, absolute_seconds=30 * 86400)
STAFF_POLICY = SessionPolicy(idle_seconds=2 * 3600, absolute_seconds=12 * 3600)


@dataclass
class Session:
    token: str
    account_id: int | None = None
    staff: bool = False
    created_at: float = field(default_factory=time.time)
    # Small string values other features keep per visitor (an OIDC state, a cart token…).
    data: dict[str, str] = field(default_factory=dict)

    @property
    def policy(self) -> SessionPolicy:
        return STAFF_POLICY if self.staff else SHOPPER_POLICY

    def expires_at(self) -> float:
        return self.created_at + self.policy.absolute_seconds


def _key(token: str) -> str:
    return _SESSION + hashlib.sha256(token.encode()).hexdigest()


def _dump(session: Session) -> str:
    record = {
        "account_id": session.account_id,
        "staff": session.staff,
        "created_at": session.created_at,
        "data": session.data,
    }
    return json.dumps(record, separators=(",", ":"))


async def load_session(redis: Redis, token: str) -> Session | None:
    """The live session for this token, its idle timer restarted; None when unknown or expired."""
    if not token or len(token) > 100:
        return None
    raw = await redis.get(_key(token))
    if raw is None:
        return None
    record = json.loads(raw)
    session = Session(
        token, record["account_id"], record["staff"], record["created_at"], record["data"]
    )
    if time.time() >= session.expires_at():
        await end_session(redis, session)
        return None
    await redis.expire(_key(token), _ttl(session))
    return session


def _ttl(session: Session) -> int:
    left = int(session.expires_at() - time.time()) + 1
    return max(1, min(session.policy.idle_seconds, left))


async def save_session(redis: Redis, session: Session) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(_key(session.token), _dump(session), ex=_ttl(session))
        if session.account_id is not None:
            sessions_of = f"{_ACCOUNT_SESSIONS}{session.account_id}"
            pipe.sadd(sessions_of, _key(session.token))
            pipe.expire(sessions_of, SHOPPER_POLICY.absolute_seconds)
        await pipe.execute()


async def start_session(redis: Redis, *, data: dict[str, str] | None = None) -> Session:
    """A new anonymous session (only when a visitor does something that needs one)."""
    session = Session(secrets.token_urlsafe(32), data=dict(data or {}))
    await save_session(redis, session)
    return session


async def sign_in(redis: Redis, old: Session | None, account_id: int, *, staff: bool) -> Session:
    """A new session (new token, new lifetimes) for the account, keeping what the old one held:
    the token always changes at sign-in, so one planted before it is worth nothing after."""
    session = Session(
        secrets.token_urlsafe(32), account_id, staff, data=dict(old.data) if old else {}
    )
    if old is not None:
        await end_session(redis, old)
    await save_session(redis, session)
    return session


async def end_session(redis: Redis, session: Session) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(_key(session.token))
        if session.account_id is not None:
            pipe.srem(f"{_ACCOUNT_SESSIONS}{session.account_id}", _key(session.token))
        await pipe.execute()


async def end_all_sessions(redis: Redis, account_id: int) -> int:
    """Sign the account out everywhere; returns how many sessions ended."""
    sessions_of = f"{_ACCOUNT_SESSIONS}{account_id}"
    keys = list(await redis.smembers(sessions_of))  # type: ignore[misc]
    async with redis.pipeline(transaction=True) as pipe:
        if keys:
            pipe.delete(*keys)
        pipe.delete(sessions_of)
        results = await pipe.execute()
    return int(results[0]) if keys else 0
