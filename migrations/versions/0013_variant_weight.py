"""A shipping weight per variant, and its snapshot on order lines.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Variants that exist before this migration have never been weighed: half a kilo is a
# plausible parcel for most of what a shop sells, and errs on the side of charging a band
# rather than shipping for nothing. Staff correct it per variant.
DEFAULT_GRAMS = "500"


def upgrade() -> None:
    op.add_column(
        "product_variant",
        sa.Column("weight_grams", sa.Integer(), nullable=False, server_default=DEFAULT_GRAMS),
    )
    op.create_check_constraint("ck_product_variant_weight", "product_variant", "weight_grams >= 0")
    # The order keeps the weight it was shipped by, as it keeps the price it was sold at.
    op.add_column(
        "order_line",
        sa.Column("unit_weight_grams", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_check_constraint("ck_order_line_weight", "order_line", "unit_weight_grams >= 0")


def downgrade() -> None:
    op.drop_constraint("ck_order_line_weight", "order_line", type_="check")
    op.drop_column("order_line", "unit_weight_grams")
    op.drop_constraint("ck_product_variant_weight", "product_variant", type_="check")
    op.drop_column("product_variant", "weight_grams")
