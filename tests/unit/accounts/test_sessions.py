from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from app.accounts import sessions

pytestmark = pytest.mark.anyio


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def test_a_session_is_found_by_its_token_and_stored_under_its_hash(redis: Redis) -> None:
    started = await sessions.start_session(redis, data={"cart": "c1"})

    loaded = await sessions.load_session(redis, started.token)

    assert loaded is not None
    assert loaded.data == {"cart": "c1"}
    assert await redis.keys(f"*{started.token}*") == []


async def test_signing_in_changes_the_token_and_keeps_the_data(redis: Redis) -> None:
    anonymous = await sessions.start_session(redis, data={"cart": "c1"})

    signed_in = await sessions.sign_in(redis, anonymous, 7, staff=False)

    assert signed_in.token != anonymous.token
    assert await sessions.load_session(redis, anonymous.token) is None
    loaded = await sessions.load_session(redis, signed_in.token)
    assert loaded is not None
    assert loaded.account_id == 7
    assert loaded.data == {"cart": "c1"}


async def test_idle_expiry_is_the_key_ttl_and_staff_idle_less(redis: Redis) -> None:
    shopper = await sessions.sign_in(redis, None, 1, staff=False)
    staff = await sessions.sign_in(redis, None, 2, staff=True)

    shopper_ttl = await redis.ttl(sessions._key(shopper.token))
    staff_ttl = await redis.ttl(sessions._key(staff.token))

    assert 14 * 86400 - 5 <= shopper_ttl <= 14 * 86400
    assert 2 * 3600 - 5 <= staff_ttl <= 2 * 3600


async def test_a_session_past_its_absolute_lifetime_is_gone(redis: Redis) -> None:
    session = sessions.Session("t" * 43, account_id=3, created_at=time.time() - 30 * 86400 + 5)
    await sessions.save_session(redis, session)
    assert await sessions.load_session(redis, session.token) is not None

    session.created_at -= 10
    await sessions.save_session(redis, session)

    assert await sessions.load_session(redis, session.token) is None


async def test_signing_out_everywhere_ends_every_session_of_the_account(redis: Redis) -> None:
    phone = await sessions.sign_in(redis, None, 5, staff=False)
    laptop = await sessions.sign_in(redis, None, 5, staff=False)
    someone_else = await sessions.sign_in(redis, None, 6, staff=False)

    ended = await sessions.end_all_sessions(redis, 5)

    assert ended == 2
    assert await sessions.load_session(redis, phone.token) is None
    assert await sessions.load_session(redis, laptop.token) is None
    assert await sessions.load_session(redis, someone_else.token) is not None


async def test_made_up_tokens_find_nothing(redis: Redis) -> None:
    assert await sessions.load_session(redis, "") is None
    assert await sessions.load_session(redis, "x" * 500) is None
    assert await sessions.load_session(redis, "not-a-session") is None
