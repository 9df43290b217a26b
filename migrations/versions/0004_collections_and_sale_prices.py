"""Collections (hand-picked or by rule) and compare-at prices for sales.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("product_variant", sa.Column("compare_at_minor", sa.Integer(), nullable=True))
    op.create_check_constraint(
        "ck_product_variant_compare_at_above_price",
        "product_variant",
        "compare_at_minor IS NULL OR compare_at_minor > price_minor",
    )
    op.create_index(
        "ix_product_variant_on_sale",
        "product_variant",
        ["product_id"],
        postgresql_where=sa.text("compare_at_minor IS NOT NULL"),
    )
    op.create_index("ix_product_created_at", "product", [sa.text("created_at DESC"), "id"])
    op.create_table(
        "collection",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(120), nullable=False, unique=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("description", sa.String(), nullable=False, server_default=""),
        sa.Column("rule", sa.String(20), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.CheckConstraint("rule IN ('newest', 'on_sale')", name="ck_collection_rule_known"),
    )
    op.create_table(
        "collection_product",
        sa.Column(
            "collection_id",
            sa.Integer(),
            sa.ForeignKey("collection.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("product.id"), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("collection_product")
    op.drop_table("collection")
    op.drop_index("ix_product_created_at", "product")
    op.drop_index("ix_product_variant_on_sale", "product_variant")
    op.drop_constraint("ck_product_variant_compare_at_above_price", "product_variant")
    op.drop_column("product_variant", "compare_at_minor")
