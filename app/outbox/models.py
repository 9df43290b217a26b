"""The outbox table (owned by app/outbox; other domains write to it through its service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, String, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class OutboxEvent(SQLModel, table=True):
    """One side effect to carry out after the transaction that wrote it commits.

    `relayed_at` is set when the relay has handed the event to arq; `done_at` when the job has
    carried it out, so a job that runs twice does the side effect once.
    """

    __tablename__ = "outbox_event"
    __table_args__ = (
        # NULLs are distinct in a unique constraint, so events without a key never collide.
        UniqueConstraint("key", name="uq_outbox_event_key"),
        # The relay only ever looks for events not yet handed over, oldest first.
        Index("ix_outbox_event_unrelayed", "id", postgresql_where=text("relayed_at IS NULL")),
        # Jobs that take every waiting event of their kind at once (edge purges).
        Index(
            "ix_outbox_event_pending_by_kind",
            "kind",
            "id",
            postgresql_where=text("done_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    kind: str = Field(sa_column=Column(String(50), nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    key: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    relayed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    done_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
