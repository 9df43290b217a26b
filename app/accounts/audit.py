"""The staff audit log: who did what to what, when, with the before and after values.
Append-only in the database itself (a trigger refuses UPDATE and DELETE)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.models import StaffAuditEntry, UserAccount
from app.accounts.permissions import require_permission


async def record_staff_action(
    session: AsyncSession,
    actor: UserAccount,
    action: str,
    subject: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    entry = StaffAuditEntry(
        actor_id=actor.id, actor_email=actor.email, action=action, subject=subject,
        before=before, after=after,
    )  # fmt: skip
    session.add(entry)
    await session.flush()


async def list_recent_actions(
    session: AsyncSession, viewer: UserAccount, limit: int = 20
) -> list[StaffAuditEntry]:
    require_permission(viewer, "audit.view")
    rows = await session.execute(
        select(StaffAuditEntry).order_by(col(StaffAuditEntry.id).desc()).limit(limit)
    )
    return list(rows.scalars())
