"""Stock per warehouse with reservations and a movement log; carts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "warehouse",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(20), nullable=False, unique=True),
        sa.Column("name", sa.String(80), nullable=False),
        # Lower first: reservations take stock from the first warehouse that has enough.
        sa.Column("priority", sa.Integer(), nullable=False, server_default="100"),
    )
    op.execute(
        "INSERT INTO warehouse (id, code, name, priority) VALUES (1, 'main', 'Main warehouse', 0)"
    )
    op.execute("SELECT setval('warehouse_id_seq', 1)")

    op.add_column(
        "stock_level",
        sa.Column(
            "warehouse_id",
            sa.Integer(),
            sa.ForeignKey("warehouse.id"),
            nullable=False,
            server_default="1",
        ),
    )
    op.add_column(
        "stock_level", sa.Column("reserved", sa.Integer(), nullable=False, server_default="0")
    )
    op.execute("ALTER TABLE stock_level DROP CONSTRAINT stock_level_pkey")
    op.create_primary_key("stock_level_pkey", "stock_level", ["variant_id", "warehouse_id"])
    # Never more reserved than on hand, never below zero: the database itself refuses an
    # oversell, whatever code path tries it.
    op.create_check_constraint(
        "ck_stock_level_reserved_within_on_hand",
        "stock_level",
        "reserved >= 0 AND reserved <= on_hand",
    )

    op.create_table(
        "stock_movement",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("on_hand_change", sa.Integer(), nullable=False),
        sa.Column("reserved_change", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(60), nullable=False, server_default=""),
        sa.Column("actor", sa.String(254), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_stock_movement_variant", "stock_movement", ["variant_id", "id"])

    op.create_table(
        "stock_reservation",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("reference", sa.String(60), nullable=False),  # the order number
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, server_default="held"),
        sa.CheckConstraint("quantity > 0", name="ck_stock_reservation_quantity_positive"),
        sa.CheckConstraint(
            "status IN ('held', 'committed', 'released')", name="ck_stock_reservation_status"
        ),
    )
    op.create_index("ix_stock_reservation_reference", "stock_reservation", ["reference"])
    op.create_index(
        "ix_stock_reservation_held_expiry",
        "stock_reservation",
        ["expires_at"],
        postgresql_where=sa.text("status = 'held'"),
    )

    op.create_table(
        "cart",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("user_account.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    # One cart per account; guests' carts have none.
    op.create_index(
        "ix_cart_account", "cart", ["account_id"], unique=True,
        postgresql_where=sa.text("account_id IS NOT NULL"),
    )  # fmt: skip
    op.create_index("ix_cart_updated_at", "cart", ["updated_at"])
    op.create_table(
        "cart_line",
        sa.Column(
            "cart_id", sa.Integer(), sa.ForeignKey("cart.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "variant_id", sa.Integer(), sa.ForeignKey("product_variant.id"), primary_key=True
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        # The price the shopper saw when adding, so a later change can be pointed out.
        sa.Column("seen_price_minor", sa.Integer(), nullable=False),
        sa.Column(
            "added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("quantity BETWEEN 1 AND 99", name="ck_cart_line_quantity"),
    )


def downgrade() -> None:
    op.drop_table("cart_line")
    op.drop_table("cart")
    op.drop_table("stock_reservation")
    op.drop_table("stock_movement")
    op.drop_constraint("ck_stock_level_reserved_within_on_hand", "stock_level")
    op.execute("DELETE FROM stock_level WHERE warehouse_id <> 1")
    op.execute("ALTER TABLE stock_level DROP CONSTRAINT stock_level_pkey")
    op.create_primary_key("stock_level_pkey", "stock_level", ["variant_id"])
    op.drop_column("stock_level", "reserved")
    op.drop_column("stock_level", "warehouse_id")
    op.drop_table("warehouse")
