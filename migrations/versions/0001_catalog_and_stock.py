"""Catalog (categories, products, variants, images) and stock levels.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("category.id"), nullable=True),
        sa.Column("slug", sa.String(120), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.String(), nullable=False, server_default=""),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_category_parent_id", "category", ["parent_id"])
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(160), nullable=False, unique=True),
        sa.Column("title", sa.String(160), nullable=False),
        sa.Column("description", sa.String(), nullable=False, server_default=""),
        sa.Column("category_id", sa.Integer(), sa.ForeignKey("category.id"), nullable=False),
        sa.Column("attributes", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("is_featured", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
    )
    op.create_index("ix_product_category_id", "product", ["category_id"])
    op.create_index("ix_product_is_featured", "product", ["is_featured"])
    op.create_table(
        "product_variant",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("product.id"), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False, unique=True),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("options", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.CheckConstraint("price_minor >= 0", name="ck_product_variant_price_not_negative"),
    )
    op.create_index("ix_product_variant_product_id", "product_variant", ["product_id"])
    op.create_table(
        "product_image",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("product.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("stem", sa.String(120), nullable=False),
        sa.Column("alt", sa.String(200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
    )
    op.create_index("ix_product_image_product_id", "product_image", ["product_id"])
    op.create_table(
        "stock_level",
        sa.Column(
            "variant_id",
            sa.Integer(),
            sa.ForeignKey("product_variant.id"),
            primary_key=True,
        ),
        sa.Column("on_hand", sa.Integer(), nullable=False, server_default="0"),
        sa.CheckConstraint("on_hand >= 0", name="ck_stock_level_on_hand_not_negative"),
    )


def downgrade() -> None:
    op.drop_table("stock_level")
    op.drop_table("product_image")
    op.drop_table("product_variant")
    op.drop_table("product")
    op.drop_table("category")
