"""Cart tables (owned by app/cart): one cart per guest token or account, and its lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, func
from sqlmodel import Field, SQLModel


class Cart(SQLModel, table=True):
    __tablename__ = "cart"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    account_id: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class CartLine(SQLModel, table=True):
    __tablename__ = "cart_line"

    cart_id: int = Field(foreign_key="cart.id", primary_key=True)
    variant_id: int = Field(foreign_key="product_variant.id", primary_key=True)
    quantity: int
    seen_price_minor: int
    added_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
