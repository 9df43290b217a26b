"""Composing a MIME message and handing it to the SMTP server named by SMTP_URL."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.notifications.rendering import RenderedEmail
from app.settings import Settings

SMTP_TIMEOUT = 30
# `edgecart check` should answer quickly even when the server is a black hole.
PING_TIMEOUT = 5


def compose(
    rendered: RenderedEmail, to: str, sender: str, message_id: str, sent_at: datetime
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(sent_at.astimezone(UTC))
    message["Message-ID"] = message_id
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def message_id(event_id: int, created_at: datetime, sender: str) -> str:
    """The same id for every attempt at one event, so a receiver can drop a resent copy; the
    creation time keeps ids of a reset database from matching older mail."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "edgecart.invalid"
    return f"<outbox-{event_id}.{int(created_at.timestamp())}@{domain}>"


def _client(smtp_url: str, timeout: float) -> aiosmtplib.SMTP:
    url = urlsplit(smtp_url)
    implicit_tls = url.scheme == "smtps"
    return aiosmtplib.SMTP(
        hostname=url.hostname,
        port=url.port or (465 if implicit_tls else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=implicit_tls,
        # None: STARTTLS whenever the server offers it.
        start_tls=False if implicit_tls else None,
        timeout=timeout,
    )


async def send_message(settings: Settings, message: EmailMessage) -> None:
    async with _client(settings.smtp_url, SMTP_TIMEOUT) as client:
        await client.send_message(message)


async def ping(smtp_url: str) -> None:
    """Connect, greet and log in as a send would, then leave; raises when that fails."""
    async with _client(smtp_url, PING_TIMEOUT) as client:
        await client.noop()
