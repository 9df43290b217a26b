"""The request hash of an API order (a reused Idempotency-Key with another body is refused);
the date a voucher may be used from.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: adding either column rewrites no rows. Orders from the pages and
    # API orders placed before this have no hash, and their key is not checked against a body.
    op.add_column("shop_order", sa.Column("request_hash", sa.String(64), nullable=True))
    op.add_column("voucher", sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        "ck_voucher_dates",
        "voucher",
        "starts_at IS NULL OR expires_at IS NULL OR starts_at < expires_at",
    )


def downgrade() -> None:
    op.drop_constraint("ck_voucher_dates", "voucher")
    op.drop_column("voucher", "starts_at")
    op.drop_column("shop_order", "request_hash")
