"""OAuth 2.0 authorization server: registered clients, refresh tokens and signing keys.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRANT_TYPES = ("client_credentials", "authorization_code")
ALGORITHMS = ("ES256", "RS256")


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "oauth_client",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("grant_types", postgresql.ARRAY(sa.String(40)), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(40)), nullable=False),
        sa.Column(
            "redirect_uris", postgresql.ARRAY(sa.Text()), nullable=False, server_default="{}"
        ),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        _now("created_at"),
        sa.CheckConstraint(
            "grant_types <@ ARRAY[" + ", ".join(f"'{g}'" for g in GRANT_TYPES) + "]::varchar[]"
            " AND cardinality(grant_types) > 0",
            name="ck_oauth_client_grant_types",
        ),
        # Client credentials need a secret: a public client cannot keep one.
        sa.CheckConstraint(
            "secret_hash IS NOT NULL OR NOT 'client_credentials' = ANY(grant_types)",
            name="ck_oauth_client_public_grants",
        ),
    )

    op.create_table(
        "oauth_refresh_token",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "client_id",
            sa.String(64),
            sa.ForeignKey("oauth_client.client_id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("user_account.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
        sa.Column("scopes", postgresql.ARRAY(sa.String(40)), nullable=False),
        sa.Column("family_id", sa.String(32), nullable=False, index=True),
        _now("created_at"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )

    op.create_table(
        "oauth_signing_key",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("algorithm", sa.String(10), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("public_jwk", postgresql.JSONB(), nullable=False),
        _now("created_at"),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "algorithm IN (" + ", ".join(f"'{a}'" for a in ALGORITHMS) + ")",
            name="ck_oauth_signing_key_algorithm",
        ),
    )
    # At most one key signs at a time.
    op.create_index(
        "ux_oauth_signing_key_current",
        "oauth_signing_key",
        [sa.text("(retired_at IS NULL)")],
        unique=True,
        postgresql_where=sa.text("retired_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("oauth_signing_key")
    op.drop_table("oauth_refresh_token")
    op.drop_table("oauth_client")
