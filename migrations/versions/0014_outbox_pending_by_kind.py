"""Outbox: find the events of one kind not done yet without reading the done ones.

The edge purge job takes every waiting `edge.purge` event at once (app/edge/tasks.py); done
rows pile up as the shop's history, so the lookup needs its own partial index.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_event_pending_by_kind",
        "outbox_event",
        ["kind", "id"],
        postgresql_where=sa.text("done_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_event_pending_by_kind", table_name="outbox_event")
