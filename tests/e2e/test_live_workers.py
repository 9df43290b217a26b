"""Every live shop of the harness has a worker of its own: what one shop puts in its outbox is
sent by its own worker, never taken (and lost) by another shop's."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial

from app.devstack.mailsink import LocalMailSink, StoredMail
from app.notifications.service import queue_email
from tests.conftest import LIVE_DATABASES
from tests.e2e.conftest import run_beside
from tests.factories.db import session_for

MAILS_PER_SHOP = 3


async def queue_mails(database_url: str, addresses: list[str]) -> None:
    async with session_for(database_url) as session:
        for address in addresses:
            await queue_email(session, address, "test_message", {"name": "Ann"})


def sent_to(address: str) -> Callable[[StoredMail], bool]:
    return lambda mail: mail.to == address


def test_two_live_shops_each_send_their_own_mail(
    base_url: str, paged_server: str, mail_sink: LocalMailSink
) -> None:
    # Outbox ids, and so arq job ids ("outbox:1"), repeat from shop to shop: workers sharing
    # one queue would run each other's jobs against the wrong database.
    wanted: list[str] = []
    for shop in (base_url, paged_server):
        addresses = [f"worker.{uuid.uuid4().hex[:10]}@example.com" for _ in range(MAILS_PER_SHOP)]
        run_beside(partial(queue_mails, LIVE_DATABASES[shop], addresses))
        wanted += addresses

    for address in wanted:
        mail_sink.wait_for(sent_to(address), timeout=20)
    arrived = [mail.to for mail in mail_sink.read() if mail.to in wanted]
    assert sorted(arrived) == sorted(wanted)  # each exactly once
