"""Account rules: creating staff. Sign-in, sessions and OIDC arrive with the accounts issue."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.accounts.models import UserAccount

_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """Input that cannot make an account; the message is safe to show."""


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not _EMAIL.match(cleaned) or len(cleaned) > 254:
        raise AccountError(f"{email!r} is not an e-mail address")
    return cleaned


async def create_or_update_staff(session: AsyncSession, email: str, password: str) -> UserAccount:
    """Make `email` a staff member with this password, creating the account if needed."""
    address = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    found = await session.execute(select(UserAccount).where(UserAccount.email == address))
    account = found.scalar_one_or_none()
    if account is None:
        account = UserAccount(email=address, password_hash="", is_staff=True)
        session.add(account)
    account.password_hash = _hasher.hash(password)
    account.is_staff = True
    await session.flush()
    return account


def verify_password(account: UserAccount, password: str) -> bool:
    try:
        return _hasher.verify(account.password_hash, password)
    except Exception:  # argon2 raises several kinds for a mismatch or a malformed hash
        return False
