"""The worker job that renders and sends one queued mail, once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import aiosmtplib
from arq import Retry

from app.db import transaction
from app.notifications.rendering import render_email
from app.notifications.service import EMAIL_KIND
from app.notifications.smtp import compose, message_id, send_message
from app.outbox import service as outbox

logger = logging.getLogger(__name__)


async def send_email(ctx: dict[str, Any], event_id: int) -> str:
    """Send the mail of outbox event `event_id` unless it was sent already.

    The event row stays locked while the mail goes out and is marked sent in the same
    transaction, so two runs of this job for one event send one mail. A crash between the
    server's "250 OK" and the commit sends it again on retry (at least once, never lost); the
    Message-ID stays the same so the receiver can tell.
    """
    settings = ctx["settings"]
    async with transaction(ctx["sessionmaker"]) as session:
        event = await outbox.lock_pending_event(session, event_id, EMAIL_KIND)
        if event is None:
            return "skipped: sent already or no such mail"
        payload = event.payload
        rendered = render_email(ctx["mail_templates"], payload["template"], payload["context"])
        assert event.created_at is not None  # set by the database on insert
        message = compose(
            rendered,
            to=payload["to"],
            sender=settings.mail_from,
            message_id=message_id(event_id, event.created_at, settings.mail_from),
            sent_at=datetime.now(UTC),
        )
        try:
            await send_message(settings, message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            # The server is down or said "try later": arq runs the job again, up to its tries.
            tries = int(ctx.get("job_try", 1))
            logger.warning("mail %s not sent (try %s): %s", event_id, tries, exc)
            raise Retry(defer=min(10 * tries**2, 600)) from exc
        await outbox.mark_done(session, event_id)
    return "sent"
