"""Payment tables (owned by app/payments): one `payment` row per attempt to pay an order, a
`payment_transaction` row for everything the provider did with it, and the ids of processed
webhook events (a duplicate delivery finds its id and changes nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, String, func
from sqlmodel import Field, SQLModel


class Payment(SQLModel, table=True):
    __tablename__ = "payment"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    order_id: int = Field(sa_column=Column(BigInteger, ForeignKey("shop_order.id"), nullable=False))
    order_number: str = Field(max_length=20)
    gateway: str = Field(max_length=20)
    capture_mode: str = Field(max_length=10)  # automatic or manual
    state: str = Field(default="created", max_length=20)
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    captured_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    refunded_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    provider_reference: str | None = Field(default=None, max_length=255)
    provider_payment_id: str | None = Field(default=None, max_length=255)
    redirect_url: str | None = None
    failure_code: str | None = Field(default=None, max_length=60)
    failure_message: str | None = Field(default=None, max_length=500)
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class PaymentTransaction(SQLModel, table=True):
    __tablename__ = "payment_transaction"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    payment_id: int = Field(sa_column=Column(BigInteger, ForeignKey("payment.id"), nullable=False))
    kind: str = Field(max_length=20)  # start, authorize, capture, void, expire, refund, fail
    state: str = Field(max_length=20)  # succeeded, failed, pending
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    provider_id: str | None = Field(default=None, max_length=255)
    idempotency_key: str | None = Field(
        default=None, sa_column=Column(String(255), nullable=True, unique=True)
    )
    source: str = Field(max_length=20)  # shop, redirect, webhook, job
    detail: str = Field(default="", max_length=500)
    at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class PaymentWebhookEvent(SQLModel, table=True):
    __tablename__ = "payment_webhook_event"

    gateway: str = Field(max_length=20, primary_key=True)
    event_id: str = Field(max_length=255, primary_key=True)
    event_type: str = Field(max_length=100)
    payment_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("payment.id"), nullable=True)
    )
    received_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
