"""Inventory tables (owned by app/inventory)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class StockLevel(SQLModel, table=True):
    """How many units of a variant are on hand. Reservations arrive with the cart and checkout."""

    __tablename__ = "stock_level"

    variant_id: int = Field(foreign_key="product_variant.id", primary_key=True)
    on_hand: int = Field(default=0)
