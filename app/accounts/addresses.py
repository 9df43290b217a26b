"""A signed-in shopper's address book. Every lookup is scoped by account: another person's
address id is simply not found."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.models import Address
from app.accounts.validation import FieldError, check_phone, check_postal_code, clean_text

ADDRESS_FIELDS = (
    "full_name",
    "line1",
    "line2",
    "postal_code",
    "city",
    "region",
    "country",
    "phone",
)


def clean_address(form: Mapping[str, str]) -> dict[str, str]:
    """The address fields, checked; raises FieldError for the first field that is wrong."""
    values = {name: form.get(name, "") for name in ADDRESS_FIELDS}
    cleaned = {
        "full_name": clean_text(values["full_name"], "full_name", max_length=120),
        "line1": clean_text(values["line1"], "line1", max_length=120),
        "line2": clean_text(values["line2"], "line2", max_length=120, required=False),
        "city": clean_text(values["city"], "city", max_length=80),
        "region": clean_text(values["region"], "region", max_length=80, required=False),
        "phone": check_phone(values["phone"]),
    }
    cleaned["country"], cleaned["postal_code"] = check_postal_code(
        values["country"], clean_text(values["postal_code"], "postal_code", max_length=12)
    )
    if cleaned["country"] == "US" and not cleaned["region"]:
        raise FieldError("region", "Please enter the state.")
    return cleaned


async def list_addresses(session: AsyncSession, account_id: int) -> list[Address]:
    rows = await session.execute(
        select(Address).where(col(Address.account_id) == account_id).order_by(col(Address.id))
    )
    return list(rows.scalars())


async def get_address(session: AsyncSession, account_id: int, address_id: int) -> Address | None:
    address = await session.get(Address, address_id)
    return address if address is not None and address.account_id == account_id else None


async def save_address(
    session: AsyncSession, account_id: int, form: Mapping[str, str], address_id: int | None = None
) -> Address | None:
    """Add an address, or change one of the account's own; None when `address_id` is not theirs."""
    cleaned = clean_address(form)
    if address_id is None:
        address = Address.model_validate({**cleaned, "account_id": account_id})
        session.add(address)
    else:
        found = await get_address(session, account_id, address_id)
        if found is None:
            return None
        address = found
        for name, value in cleaned.items():
            setattr(address, name, value)
    await session.flush()
    return address


async def delete_address(session: AsyncSession, account_id: int, address_id: int) -> bool:
    address = await get_address(session, account_id, address_id)
    if address is None:
        return False
    await session.delete(address)
    await session.flush()
    return True
