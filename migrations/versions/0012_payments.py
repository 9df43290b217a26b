"""Payments: one row per payment attempt, every provider transaction, processed webhook events.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = (
    "created", "pending", "authorized", "captured", "failed", "canceled", "expired",
    "partially_refunded", "refunded",
)  # fmt: skip
TRANSACTION_KINDS = ("start", "authorize", "capture", "void", "expire", "refund", "fail")
TRANSACTION_STATES = ("succeeded", "failed", "pending")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    op.create_table(
        "payment",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "order_id",
            sa.BigInteger(),
            sa.ForeignKey("shop_order.id", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("order_number", sa.String(20), nullable=False),
        sa.Column("gateway", sa.String(20), nullable=False),
        sa.Column("capture_mode", sa.String(10), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("captured_minor", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("refunded_minor", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("currency", sa.String(3), nullable=False),
        # The provider's hosted-page session (Stripe: cs_…) and the payment behind it (pi_…).
        sa.Column("provider_reference", sa.String(255), nullable=True),
        sa.Column("provider_payment_id", sa.String(255), nullable=True),
        sa.Column("redirect_url", sa.Text(), nullable=True),
        sa.Column("failure_code", sa.String(60), nullable=True),
        sa.Column("failure_message", sa.String(500), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(_in("state", STATES), name="ck_payment_state"),
        sa.CheckConstraint("capture_mode IN ('automatic', 'manual')", name="ck_payment_capture"),
        sa.CheckConstraint(
            "amount_minor > 0 AND captured_minor >= 0 AND refunded_minor >= 0 "
            "AND captured_minor <= amount_minor AND refunded_minor <= captured_minor",
            name="ck_payment_amounts",
        ),
        sa.UniqueConstraint("gateway", "provider_reference", name="uq_payment_provider_reference"),
    )
    op.create_index("ix_payment_order", "payment", ["order_id", "id"])
    # What a reconciliation job looks at: attempts not settled yet.
    op.create_index(
        "ix_payment_unsettled",
        "payment",
        ["updated_at"],
        postgresql_where=sa.text("state IN ('created', 'pending', 'authorized')"),
    )
    op.create_table(
        "payment_transaction",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "payment_id",
            sa.BigInteger(),
            sa.ForeignKey("payment.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("provider_id", sa.String(255), nullable=True),
        # The key the call was made with: one refund per key, whoever asks twice.
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("source", sa.String(20), nullable=False),  # redirect, webhook, shop, job
        sa.Column("detail", sa.String(500), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(_in("kind", TRANSACTION_KINDS), name="ck_payment_transaction_kind"),
        sa.CheckConstraint(_in("state", TRANSACTION_STATES), name="ck_payment_transaction_state"),
        sa.CheckConstraint("amount_minor >= 0", name="ck_payment_transaction_amount"),
        sa.UniqueConstraint("idempotency_key", name="uq_payment_transaction_key"),
    )
    op.create_index("ix_payment_transaction_payment", "payment_transaction", ["payment_id", "id"])
    op.create_table(
        "payment_webhook_event",
        sa.Column("gateway", sa.String(20), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column(
            "payment_id",
            sa.BigInteger(),
            sa.ForeignKey("payment.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("payment_webhook_event")
    op.drop_table("payment_transaction")
    op.drop_table("payment")
