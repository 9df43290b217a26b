"""Password reset end to end: the form, the outbox, a real worker, the mail in the SMTP sink,
the link, the new password."""

from __future__ import annotations

import asyncio
import re
import subprocess

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from app.accounts import resets
from app.devstack.mailsink import LocalMailSink
from app.settings import Settings
from tests.factories.accounts import make_account
from tests.factories.db import session_for
from tests.unit.accounts.conftest import sign_in

pytestmark = pytest.mark.anyio

SAME_ANSWER = "If an account uses"


async def test_a_reset_link_arrives_by_mail_and_works_once(
    client: httpx.AsyncClient,
    database_url: str,
    worker: subprocess.Popen[bytes],
    mail_sink: LocalMailSink,
) -> None:
    await make_account(database_url, "reset-me@example.com")
    await sign_in(client, "reset-me@example.com")  # a session the reset must end
    old_session = client.cookies["edgecart_session"]
    client.cookies.clear()

    asked = await client.post("/account/password-reset", data={"email": "Reset-Me@example.com"})
    mail = await asyncio.to_thread(mail_sink.wait_for, lambda m: m.to == "reset-me@example.com")
    found = re.search(r"http://\S+/account/password-reset/(\S+)", mail.text)
    assert found, mail.text
    link = "/account/password-reset/" + found.group(1)
    form = await client.get(link)
    too_short = await client.post(link, data={"new_password": "short"})
    done = await client.post(link, data={"new_password": "a brand new password"})
    again = await client.get(link)

    assert SAME_ANSWER in asked.text
    assert "expires in 60 minutes" in mail.text
    assert form.status_code == 200
    assert too_short.status_code == 422
    assert done.status_code == 303
    assert done.headers["location"] == "/account?done=reset"
    assert again.status_code == 410
    client.cookies.clear()
    client.cookies.set("edgecart_session", old_session, domain="shop.test")
    assert 'data-testid="login-email"' in (await client.get("/account")).text
    client.cookies.clear()
    assert (
        await sign_in(client, "reset-me@example.com", "a brand new password")
    ).status_code == 303


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client: httpx.AsyncClient, database_url: str
) -> None:
    await make_account(database_url, "known@example.com")

    known = await client.post("/account/password-reset", data={"email": "known@example.com"})
    unknown = await client.post("/account/password-reset", data={"email": "unknown@example.com"})

    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("known@", "X@") == unknown.text.replace("unknown@", "X@")


async def test_asking_again_retires_the_older_link(database_url: str, settings: Settings) -> None:
    await make_account(database_url, "twice@example.com")
    redis = Redis.from_url(settings.redis_url, decode_responses=True)
    links: list[str] = []
    for _ in range(2):
        async with session_for(database_url) as session:
            await resets.request_reset(session, redis, "twice@example.com", "")
        links.append(await _newest_link(database_url))

    first, second = links
    assert not await resets.reset_link_works(redis, first)
    assert await resets.reset_link_works(redis, second)
    await redis.aclose()


async def _newest_link(database_url: str) -> str:
    async with session_for(database_url) as session:
        row = await session.execute(
            text("SELECT payload -> 'context' ->> 'reset_url' FROM outbox_event ORDER BY id DESC")
        )
        return str(row.scalars().first())


async def test_too_many_requests_from_one_address_get_429(client: httpx.AsyncClient) -> None:
    statuses = [
        (
            await client.post("/account/password-reset", data={"email": f"x{n}@example.com"})
        ).status_code
        for n in range(6)
    ]

    assert statuses == [200] * 5 + [429]
