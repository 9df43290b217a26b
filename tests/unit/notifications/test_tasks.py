"""send_email: renders, escapes, sends once, and leaves the mail unsent when it cannot send."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from dataclasses import replace
from typing import Any

import pytest
from arq import Retry
from arq.jobs import Job, JobStatus

from app.devstack.mailsink import LocalMailSink, StoredMail
from app.devstack.ports import free_port
from app.notifications.service import queue_email
from app.notifications.tasks import send_email
from app.settings import Settings
from app.workers.relay import job_id_for, relay_outbox
from tests.factories.db import session_for
from tests.factories.outbox import event_times, forget_relay

pytestmark = pytest.mark.anyio


def shopper() -> str:
    return f"shopper-{uuid.uuid4().hex[:10]}@shoppers.test"


async def _queue(settings: Settings, to: str, template: str, context: dict[str, Any]) -> int:
    async with session_for(settings.database_url) as session:
        event_id = await queue_email(session, to, template, context)
    assert event_id is not None
    return event_id


def _mail_to(sink: LocalMailSink, to: str) -> list[StoredMail]:
    return [mail for mail in sink.read() if mail.to == to]


async def test_running_the_job_twice_sends_one_mail(
    settings: Settings, job_context: dict[str, Any], mail_sink: LocalMailSink
) -> None:
    to = shopper()
    event_id = await _queue(settings, to, "test_message", {"name": "Ann"})

    first = await send_email(job_context, event_id)
    second = await send_email(job_context, event_id)

    assert (first, second) == ("sent", "skipped: sent already or no such mail")
    assert len(_mail_to(mail_sink, to)) == 1
    async with session_for(settings.database_url) as session:
        assert (await event_times(session, event_id))[1] is True


async def test_relaying_twice_sends_once(
    settings: Settings,
    job_context: dict[str, Any],
    worker: subprocess.Popen[bytes],
    mail_sink: LocalMailSink,
) -> None:
    to = shopper()
    event_id = await _queue(settings, to, "test_message", {"name": "Ann"})
    await relay_outbox(job_context)
    async with session_for(settings.database_url) as session:
        await forget_relay(session, event_id)  # the relay "crashed" before its commit
    await relay_outbox(job_context)

    await asyncio.to_thread(mail_sink.wait_for, lambda m: m.to == to)
    job = Job(job_id_for(event_id), job_context["redis"])
    deadline = time.monotonic() + 10
    while await job.status() != JobStatus.complete:
        assert time.monotonic() < deadline, "the send job never completed"
        await asyncio.sleep(0.05)

    # The one job for this event has finished; arq keeps its result, so no repeat can follow.
    assert len(_mail_to(mail_sink, to)) == 1


async def test_the_html_part_escapes_a_hostile_name(
    settings: Settings, job_context: dict[str, Any], mail_sink: LocalMailSink
) -> None:
    to = shopper()
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    event_id = await _queue(settings, to, "test_message", {"name": hostile})

    await send_email(job_context, event_id)

    [mail] = _mail_to(mail_sink, to)
    assert "<script>" not in mail.html
    assert "<img src=x" not in mail.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in mail.html
    assert f"Hello {hostile}," in mail.text  # plain text is not HTML: nothing to escape


@pytest.mark.parametrize(
    ("context", "expiry"),
    [
        ({"expires_minutes": 30}, "expires in 30 minutes"),
        ({}, "expires soon"),
    ],
    ids=["with-lifetime", "without-lifetime"],
)
async def test_the_password_reset_mail_carries_the_link_and_its_expiry(
    settings: Settings,
    job_context: dict[str, Any],
    mail_sink: LocalMailSink,
    context: dict[str, Any],
    expiry: str,
) -> None:
    to = shopper()
    reset_url = "https://shop.test/account/reset?token=abc&id=7"
    event_id = await _queue(settings, to, "password_reset", {"reset_url": reset_url, **context})

    await send_email(job_context, event_id)

    [mail] = _mail_to(mail_sink, to)
    assert mail.subject == "Reset your Edgecart password"
    assert reset_url in mail.text
    assert 'href="https://shop.test/account/reset?token=abc&amp;id=7"' in mail.html
    assert expiry in mail.text
    assert expiry in mail.html


async def test_an_unreachable_server_means_a_retry_and_the_mail_stays_unsent(
    settings: Settings, job_context: dict[str, Any]
) -> None:
    event_id = await _queue(settings, shopper(), "test_message", {"name": "Ann"})
    job_context["settings"] = replace(settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")

    with pytest.raises(Retry):
        await send_email(job_context, event_id)

    async with session_for(settings.database_url) as session:
        assert (await event_times(session, event_id))[1] is False
