"""Shopper accounts, staff roles, addresses, OIDC identities and the staff audit log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("owner", "manager", "clerk", "support")


def upgrade() -> None:
    op.add_column(
        "user_account",
        sa.Column("full_name", sa.String(120), nullable=False, server_default=""),
    )
    op.add_column("user_account", sa.Column("role", sa.String(20), nullable=True))
    op.add_column(
        "user_account",
        sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("user_account", sa.Column("totp_secret", sa.String(64), nullable=True))
    op.add_column("user_account", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    # Accounts made through OIDC sign-in have no password until they set one.
    op.alter_column("user_account", "password_hash", nullable=True)
    op.execute("UPDATE user_account SET role = 'owner' WHERE is_staff")
    op.drop_column("user_account", "is_staff")
    op.create_check_constraint(
        "ck_user_account_role",
        "user_account",
        "role IS NULL OR role IN (" + ", ".join(f"'{role}'" for role in ROLES) + ")",
    )

    op.create_table(
        "address",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("user_account.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("full_name", sa.String(120), nullable=False),
        sa.Column("line1", sa.String(120), nullable=False),
        sa.Column("line2", sa.String(120), nullable=False, server_default=""),
        sa.Column("postal_code", sa.String(12), nullable=False),
        sa.Column("city", sa.String(80), nullable=False),
        sa.Column("region", sa.String(80), nullable=False, server_default=""),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )

    op.create_table(
        "oidc_identity",
        sa.Column("provider", sa.String(40), primary_key=True),
        sa.Column("subject", sa.String(255), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("user_account.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "linked_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )

    op.create_table(
        "staff_audit_entry",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("actor_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("actor_email", sa.String(254), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("before", sa.dialects.postgresql.JSONB(), nullable=True),
        sa.Column("after", sa.dialects.postgresql.JSONB(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_staff_audit_entry_at", "staff_audit_entry", [sa.text("at DESC")])
    # Append-only: the table refuses UPDATE and DELETE whoever asks (TRUNCATE too).
    op.execute(
        """
        CREATE FUNCTION staff_audit_entry_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'staff_audit_entry is append-only';
        END $$;
        CREATE TRIGGER staff_audit_entry_append_only
            BEFORE UPDATE OR DELETE ON staff_audit_entry
            FOR EACH ROW EXECUTE FUNCTION staff_audit_entry_append_only();
        CREATE TRIGGER staff_audit_entry_no_truncate
            BEFORE TRUNCATE ON staff_audit_entry
            FOR EACH STATEMENT EXECUTE FUNCTION staff_audit_entry_append_only();
        """
    )


def downgrade() -> None:
    op.drop_table("staff_audit_entry")
    op.execute("DROP FUNCTION staff_audit_entry_append_only()")
    op.drop_table("oidc_identity")
    op.drop_table("address")
    op.drop_constraint("ck_user_account_role", "user_account")
    op.add_column(
        "user_account",
        sa.Column("is_staff", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute("UPDATE user_account SET is_staff = role IS NOT NULL")
    for column in ("erased_at", "totp_secret", "email_verified", "role", "full_name"):
        op.drop_column("user_account", column)
    op.execute("UPDATE user_account SET password_hash = '' WHERE password_hash IS NULL")
    op.alter_column("user_account", "password_hash", nullable=False)
