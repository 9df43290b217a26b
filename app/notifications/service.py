"""Queueing e-mail. The mail is rendered and sent by a worker after the caller commits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.rendering import template_exists
from app.outbox import service as outbox

EMAIL_KIND = "email"
# One plain address: a display name or a second address could smuggle in more recipients.
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


class NotificationError(ValueError):
    """A mail that cannot be queued; the message is safe to show to staff."""


async def queue_email(
    session: AsyncSession,
    to: str,
    template: str,
    context: Mapping[str, Any],
    key: str | None = None,
) -> int | None:
    """Queue the mail `template` (a folder under templates/notifications/) for `to`.

    `context` must be JSON (strings, numbers, lists, dicts): it is stored with the caller's
    change and read back by the worker. With a `key` (like "password-reset:<token id>") a second
    call with the same key queues nothing. Returns the outbox event id, or None for a repeat.
    """
    address = to.strip()
    if len(address) > 254 or not _ADDRESS.match(address):
        raise NotificationError(f"{to!r} is not one e-mail address")
    if not template_exists(template):
        raise NotificationError(f"there is no mail template {template!r}")
    payload = {"to": address, "template": template, "context": dict(context)}
    return await outbox.add_event(session, EMAIL_KIND, payload, key=key)
