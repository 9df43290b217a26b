"""Orders, their lines, their status history; vouchers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = (
    "pending_payment", "paid", "partially_fulfilled", "fulfilled", "shipped", "delivered",
    "cancelled", "partially_refunded", "refunded",
)  # fmt: skip


def upgrade() -> None:
    # Order numbers: EC-100001, EC-100002, … (short enough to read out on the phone).
    op.execute("CREATE SEQUENCE order_number_seq START 100001")
    statuses = ", ".join(f"'{status}'" for status in STATUSES)
    op.create_table(
        "shop_order",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("number", sa.String(20), nullable=False, unique=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("user_account.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("shipping_address", JSONB(), nullable=False),
        sa.Column("shipping_method", sa.String(20), nullable=False),
        sa.Column("shipping_method_name", sa.String(80), nullable=False),
        sa.Column("voucher_code", sa.String(40), nullable=True),
        # One order per checkout form: a replayed submit finds the order its key made.
        sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
        sa.Column("reserved_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(f"status IN ({statuses})", name="ck_shop_order_status"),
        sa.CheckConstraint(
            "subtotal_minor >= 0 AND shipping_minor >= 0 AND discount_minor >= 0 "
            "AND tax_minor >= 0 AND total_minor >= 0",
            name="ck_shop_order_amounts",
        ),
    )
    op.create_index("ix_shop_order_account", "shop_order", ["account_id", "id"])
    op.create_index(
        "ix_shop_order_pending_expiry",
        "shop_order",
        ["reserved_until"],
        postgresql_where=sa.text("status = 'pending_payment'"),
    )
    op.create_table(
        "order_line",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "order_id",
            sa.BigInteger(),
            sa.ForeignKey("shop_order.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("variant_id", sa.Integer(), nullable=False),  # no FK: a snapshot outlives it
        sa.Column("sku", sa.String(60), nullable=False),
        sa.Column("product_title", sa.String(200), nullable=False),
        sa.Column("variant_title", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_order_line_quantity"),
    )
    op.create_index("ix_order_line_order", "order_line", ["order_id"])
    op.create_table(
        "order_status_change",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "order_id",
            sa.BigInteger(),
            sa.ForeignKey("shop_order.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("from_status", sa.String(24), nullable=True),
        sa.Column("to_status", sa.String(24), nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("note", sa.String(500), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_order_status_change_order", "order_status_change", ["order_id", "id"])
    op.create_table(
        "voucher",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
        sa.Column("min_spend_minor", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("used_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.CheckConstraint("kind IN ('fixed', 'percent')", name="ck_voucher_kind"),
        sa.CheckConstraint(
            "amount > 0 AND (kind = 'fixed' OR amount <= 100)", name="ck_voucher_amount"
        ),
        # The conditional UPDATE that takes a use is the rule; this is the backstop.
        sa.CheckConstraint(
            "used_count >= 0 AND (usage_limit IS NULL OR used_count <= usage_limit)",
            name="ck_voucher_usage",
        ),
    )


def downgrade() -> None:
    op.drop_table("voucher")
    op.drop_table("order_status_change")
    op.drop_table("order_line")
    op.drop_table("shop_order")
    op.execute("DROP SEQUENCE order_number_seq")
