"""Accounts for tests: shoppers and staff with known passwords."""

from __future__ import annotations

import itertools

from app.accounts.models import UserAccount
from app.accounts.passwords import hash_password
from tests.factories.db import session_for

PASSWORD = "correct horse battery"
_numbers = itertools.count(1)


async def make_account(
    database_url: str,
    email: str | None = None,
    *,
    full_name: str = "Ada Shopper",
    role: str | None = None,
    totp_secret: str | None = None,
    password: str = PASSWORD,
) -> UserAccount:
    account = UserAccount(
        email=email or f"shopper{next(_numbers)}@example.com",
        password_hash=hash_password(password),
        full_name=full_name,
        role=role,
        totp_secret=totp_secret,
    )
    async with session_for(database_url) as session:
        session.add(account)
        await session.flush()
        await session.refresh(account)
    return account
