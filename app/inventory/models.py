"""Inventory tables (owned by app/inventory): warehouses, stock per variant and warehouse,
reservations held for orders, and the log of every stock change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, DateTime, func
from sqlmodel import Field, SQLModel


class Warehouse(SQLModel, table=True):
    __tablename__ = "warehouse"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=80)
    priority: int = Field(default=100)  # lower first when reserving


class StockLevel(SQLModel, table=True):
    """Units of a variant in a warehouse: `on_hand` physically there, `reserved` of those held
    for placed orders not yet paid. Available to sell: on_hand - reserved."""

    __tablename__ = "stock_level"

    variant_id: int = Field(foreign_key="product_variant.id", primary_key=True)
    warehouse_id: int = Field(default=1, foreign_key="warehouse.id", primary_key=True)
    on_hand: int = Field(default=0)
    reserved: int = Field(default=0)


class StockReservation(SQLModel, table=True):
    __tablename__ = "stock_reservation"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    reference: str = Field(max_length=60)  # the order number
    variant_id: int
    warehouse_id: int
    quantity: int
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    status: str = Field(default="held", max_length=12)  # held, committed, released


class StockMovement(SQLModel, table=True):
    __tablename__ = "stock_movement"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True))
    variant_id: int
    warehouse_id: int
    on_hand_change: int
    reserved_change: int
    reason: str = Field(max_length=20)  # reserve, release, expire, sell, restock, adjust
    reference: str = Field(default="", max_length=60)
    actor: str = Field(default="", max_length=254)
    at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
