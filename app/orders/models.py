"""Order tables (owned by app/orders): orders, their lines (a price snapshot), the record of
every status change, and vouchers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class Order(SQLModel, table=True):
    __tablename__ = "shop_order"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    number: str = Field(max_length=20, unique=True)
    account_id: int | None = Field(default=None, foreign_key="user_account.id")
    email: str = Field(max_length=254)
    status: str = Field(default="pending_payment", max_length=24)
    currency: str = Field(max_length=3)
    subtotal_minor: int
    shipping_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    prices_include_tax: bool = True
    shipping_address: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    shipping_method: str = Field(max_length=20)
    shipping_method_name: str = Field(max_length=80)
    voucher_code: str | None = Field(default=None, max_length=40)
    idempotency_key: str = Field(max_length=64, unique=True)
    # SHA-256 of the API request that placed it, to refuse its key with another body.
    request_hash: str | None = Field(default=None, max_length=64)
    reserved_until: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    order_id: int = Field(foreign_key="shop_order.id")
    variant_id: int
    sku: str = Field(max_length=60)
    product_title: str = Field(max_length=200)
    variant_title: str = Field(max_length=200)
    quantity: int
    unit_price_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    # The weight it shipped by (0 on lines placed before weights were recorded).
    unit_weight_grams: int = 0


class OrderStatusChange(SQLModel, table=True):
    __tablename__ = "order_status_change"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    order_id: int = Field(foreign_key="shop_order.id")
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str = Field(max_length=24)
    actor: str = Field(max_length=254)
    note: str = Field(default="", max_length=500)
    at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class Voucher(SQLModel, table=True):
    __tablename__ = "voucher"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)  # stored upper case
    kind: str = Field(max_length=10)  # fixed (minor units) or percent (whole percent)
    amount: int
    currency: str = Field(default="EUR", max_length=3)
    min_spend_minor: int = 0
    usage_limit: int | None = None
    used_count: int = 0
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    starts_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    active: bool = True
