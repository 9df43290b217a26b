"""Account tables (owned by app/accounts): people, their addresses, their OIDC identities and
the staff audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, func
from sqlalchemy.dialects.postgresql import JSONB
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
