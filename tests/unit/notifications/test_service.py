"""queue_email: what it accepts, and a queued mail arriving through the relay and a worker."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid

import pytest

from app.devstack.mailsink import LocalMailSink
from app.notifications.service import NotificationError, queue_email
from app.settings import Settings
from tests.factories.db import session_for
from tests.factories.outbox import count_events, event_times

pytestmark = pytest.mark.anyio


def shopper() -> str:
    return f"shopper-{uuid.uuid4().hex[:10]}@shoppers.test"


@pytest.mark.parametrize(
    "to",
    ["nobody", "a@shop.test, b@shop.test", "a@shop.test\r\nBcc: b@shop.test", "Ann <a@shop.test>"],
    ids=["no-at", "two-addresses", "header-injection", "display-name"],
)
async def test_anything_but_one_plain_address_is_refused(settings: Settings, to: str) -> None:
    async with session_for(settings.database_url) as session:
        with pytest.raises(NotificationError, match="not one e-mail address"):
            await queue_email(session, to, "test_message", {"name": "Ann"})


@pytest.mark.parametrize("template", ["no_such_mail", "../base", "test_message/body.txt"])
async def test_an_unknown_template_is_refused_when_queued(
    settings: Settings, template: str
) -> None:
    async with session_for(settings.database_url) as session:
        with pytest.raises(NotificationError, match="no mail template"):
            await queue_email(session, shopper(), template, {})


async def test_one_key_queues_one_mail(settings: Settings) -> None:
    to = shopper()
    async with session_for(settings.database_url) as session:
        first = await queue_email(session, to, "test_message", {"name": "Ann"}, key="welcome-1")
        second = await queue_email(session, to, "test_message", {"name": "Ann"}, key="welcome-1")

    assert first is not None
    assert second is None
    async with session_for(settings.database_url) as session:
        assert await count_events(session, "email") == 1


async def test_a_committed_mail_is_relayed_by_the_worker_and_arrives(
    settings: Settings, worker: subprocess.Popen[bytes], mail_sink: LocalMailSink
) -> None:
    to = shopper()
    async with session_for(settings.database_url) as session:
        event_id = await queue_email(session, to, "test_message", {"name": "Ann"})
    assert event_id is not None

    mail = await asyncio.to_thread(mail_sink.wait_for, lambda m: m.to == to)

    assert mail.subject == "A test message for Ann"
    assert mail.message["From"] == settings.mail_from
    assert mail.envelope_to == [to]
    assert "Hello Ann," in mail.text
    assert '<strong data-testid="mail-name">Ann</strong>' in mail.html
    deadline = time.monotonic() + 10
    async with session_for(settings.database_url) as session:
        while await event_times(session, event_id) != (True, True):
            assert time.monotonic() < deadline, "the event was never marked done"
            await asyncio.sleep(0.05)
