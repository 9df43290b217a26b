"""Account tables (owned by app/accounts): people, their addresses, their OIDC identities, the
staff audit log, and the OAuth 2.0 authorization server's clients, refresh tokens and signing
keys (docs/oauth.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel


class UserAccount(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    password_hash: str | None = Field(default=None, max_length=200)
    full_name: str = Field(default="", max_length=120)
    role: str | None = Field(default=None, max_length=20)  # a staff role; None for shoppers
    email_verified: bool = Field(default=False)
    totp_secret: str | None = Field(default=None, max_length=64)
    erased_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )

    @property
    def is_staff(self) -> bool:
        return self.role is not None

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@", 1)[0]


class Address(SQLModel, table=True):
    __tablename__ = "address"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="user_account.id", index=True)
    full_name: str = Field(max_length=120)
    line1: str = Field(max_length=120)
    line2: str = Field(default="", max_length=120)
    postal_code: str = Field(max_length=12)
    city: str = Field(max_length=80)
    region: str = Field(default="", max_length=80)
    country: str = Field(max_length=2)
    phone: str = Field(default="", max_length=32)
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class OidcIdentity(SQLModel, table=True):
    """An account's identity at an OpenID provider: (provider, subject) is stable, the
    provider's e-mail is not."""

    __tablename__ = "oidc_identity"

    provider: str = Field(primary_key=True, max_length=40)
    subject: str = Field(primary_key=True, max_length=255)
    account_id: int = Field(foreign_key="user_account.id", index=True)
    linked_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class StaffAuditEntry(SQLModel, table=True):
    """One staff action; the table refuses UPDATE and DELETE (a trigger, migration 0005)."""

    __tablename__ = "staff_audit_entry"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_email: str = Field(max_length=254)
    action: str = Field(max_length=80)
    subject: str = Field(max_length=120)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class OAuthClient(SQLModel, table=True):
    """An app registered to use the API: a partner channel (client credentials) or a mobile app
    (authorization code + PKCE). Public clients have no secret."""

    __tablename__ = "oauth_client"

    client_id: str = Field(primary_key=True, max_length=64)
    secret_hash: str | None = Field(default=None, max_length=64)  # SHA-256 hex; None: public
    name: str = Field(max_length=120)
    grant_types: list[str] = Field(sa_column=Column(ARRAY(String(40)), nullable=False))
    scopes: list[str] = Field(sa_column=Column(ARRAY(String(40)), nullable=False))
    redirect_uris: list[str] = Field(
        default_factory=list, sa_column=Column(ARRAY(Text), nullable=False, server_default="{}")
    )
    disabled: bool = Field(default=False)
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )

    @property
    def is_public(self) -> bool:
        return self.secret_hash is None


class OAuthRefreshToken(SQLModel, table=True):
    """A refresh token, stored as its SHA-256. Each use replaces it by a new one of the same
    family; a used one coming back means it leaked, and the whole family is revoked."""

    __tablename__ = "oauth_refresh_token"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    token_hash: str = Field(max_length=64, unique=True)
    client_id: str = Field(foreign_key="oauth_client.client_id", max_length=64, index=True)
    account_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    scopes: list[str] = Field(sa_column=Column(ARRAY(String(40)), nullable=False))
    family_id: str = Field(max_length=32, index=True)
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class SigningKey(SQLModel, table=True):
    """A key that signs access tokens. The newest unretired one signs; retired ones keep
    verifying until the tokens they signed have expired. The private key is encrypted with a
    key derived from SECRET_KEY (`signing_keys.py`)."""

    __tablename__ = "oauth_signing_key"

    kid: str = Field(primary_key=True, max_length=64)
    algorithm: str = Field(max_length=10)
    private_key: str = Field(sa_column=Column(Text, nullable=False))
    public_jwk: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    retired_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
