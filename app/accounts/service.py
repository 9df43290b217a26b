"""Account rules: registering, signing in, passwords, e-mail changes, staff, export and erasure.

Free of HTTP; never commits (the request owns the transaction). Errors carry a field name and a
message safe to show. Addresses live in `addresses.py`, password-reset links in `resets.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts import audit, oauth_refresh_tokens
from app.accounts.models import Address, OidcIdentity, UserAccount
from app.accounts.passwords import hash_password, verify_password
from app.accounts.permissions import ROLES, require_permission
from app.accounts.validation import (
    FieldError,
    check_password,
    clean_text,
    normalise_email,
)

__all__ = [
    "AccountError",
    "FieldError",
    "authenticate",
    "change_email",
    "change_password",
    "change_staff_role",
    "create_or_update_staff",
    "erase_account",
    "export_account",
    "find_account_by_email",
    "get_account",
    "register",
]


class AccountError(ValueError):
    """Input that cannot make or change an account (for the CLI); the message is safe to show."""


async def get_account(session: AsyncSession, account_id: int) -> UserAccount | None:
    account = await session.get(UserAccount, account_id)
    if account is None or account.erased_at is not None:
        return None
    return account


async def find_account_by_email(session: AsyncSession, email: str) -> UserAccount | None:
    found = await session.execute(select(UserAccount).where(col(UserAccount.email) == email))
    return found.scalar_one_or_none()


async def register(
    session: AsyncSession, email: str, password: str, full_name: str = ""
) -> UserAccount:
    address = normalise_email(email)
    name = clean_text(full_name, "full_name", max_length=120, required=False)
    check_password(password)
    if await find_account_by_email(session, address) is not None:
        # Registration cannot hide that an address is taken without an e-mail round trip
        # first; it is rate limited per IP instead (docs/security.md).
        raise FieldError("email", "There is already an account with this e-mail: sign in instead.")
    account = UserAccount(email=address, password_hash=hash_password(password), full_name=name)
    session.add(account)
    await session.flush()
    return account


async def authenticate(session: AsyncSession, email: str, password: str) -> UserAccount | None:
    """The account if the password is right. Costs one argon2 verification whatever happens,
    so the time taken says nothing about which addresses have accounts."""
    try:
        address = normalise_email(email)
    except FieldError:
        address = None
    account = await find_account_by_email(session, address) if address else None
    usable = account is not None and account.erased_at is None
    if not verify_password(account.password_hash if usable and account else None, password):
        return None
    return account


async def _account(session: AsyncSession, account_id: int) -> UserAccount:
    account = await get_account(session, account_id)
    if account is None:
        raise LookupError(f"no account {account_id}")
    return account


async def change_password(session: AsyncSession, account_id: int, current: str, new: str) -> None:
    account = await _account(session, account_id)
    if account.password_hash is not None and not verify_password(account.password_hash, current):
        raise FieldError("current_password", "That is not your current password.")
    account.password_hash = hash_password(check_password(new, "new_password"))
    # A new password signs apps out too: their refresh tokens stop working.
    await oauth_refresh_tokens.revoke_account_tokens(session, account.id or 0)
    await session.flush()


async def set_password(session: AsyncSession, account: UserAccount, new: str) -> None:
    account.password_hash = hash_password(check_password(new, "new_password"))
    # A new password signs apps out too: their refresh tokens stop working.
    await oauth_refresh_tokens.revoke_account_tokens(session, account.id or 0)
    await session.flush()


async def change_email(
    session: AsyncSession, account_id: int, password: str, new_email: str
) -> None:
    account = await _account(session, account_id)
    if not verify_password(account.password_hash, password):
        raise FieldError("password", "That is not your password.")
    address = normalise_email(new_email)
    if address == account.email:
        return
    if await find_account_by_email(session, address) is not None:
        raise FieldError("email", "Another account uses this e-mail address.")
    account.email = address
    account.email_verified = False
    await session.flush()


async def create_or_update_staff(
    session: AsyncSession, email: str, password: str, role: str = "owner"
) -> UserAccount:
    """Make `email` a staff member with this password and role, creating the account if needed.
    For the CLI (`edgecart createstaff`), which is trusted: no permission check."""
    try:
        address = normalise_email(email)
        check_password(password)
    except FieldError as exc:
        raise AccountError(f"{exc.field}: {exc.message}") from None
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    account = await find_account_by_email(session, address)
    if account is None:
        account = UserAccount(email=address)
        session.add(account)
    account.password_hash = hash_password(password)
    account.role = role
    await session.flush()
    return account


async def change_staff_role(
    session: AsyncSession, actor: UserAccount, email: str, role: str | None
) -> UserAccount:
    """Give a staff member another role (None: no longer staff). Needs `staff.manage`;
    recorded in the audit log."""
    require_permission(actor, "staff.manage")
    if role is not None and role not in ROLES:
        raise FieldError("role", "Choose one of the roles listed.")
    try:
        address = normalise_email(email)
    except FieldError:
        raise FieldError("email", "No staff member has this e-mail address.") from None
    target = await find_account_by_email(session, address)
    if target is None or target.role is None or target.erased_at is not None:
        raise FieldError("email", "No staff member has this e-mail address.")
    if target.id == actor.id:
        raise FieldError("email", "You cannot change your own role.")
    before = {"role": target.role}
    target.role = role
    await session.flush()
    await audit.record_staff_action(
        session, actor, "staff.change_role", f"account:{target.id}", before, {"role": role}
    )
    return target


async def export_account(session: AsyncSession, account_id: int) -> dict[str, Any]:
    """Everything the shop holds about the person, as plain data (for a JSON download)."""
    account = await get_account(session, account_id)
    if account is None:
        raise LookupError(account_id)
    addresses = await session.execute(
        select(Address).where(col(Address.account_id) == account_id).order_by(col(Address.id))
    )
    identities = await session.execute(
        select(col(OidcIdentity.provider), col(OidcIdentity.linked_at)).where(
            col(OidcIdentity.account_id) == account_id
        )
    )
    return {
        "account": {
            "email": account.email,
            "full_name": account.full_name,
            "email_verified": account.email_verified,
            "created_at": account.created_at.isoformat() if account.created_at else None,
            "staff_role": account.role,
        },
        "addresses": [
            address.model_dump(exclude={"account_id", "created_at"})
            for address in addresses.scalars()
        ],
        "sign_in_providers": [
            {"provider": provider, "linked_at": linked.isoformat() if linked else None}
            for provider, linked in identities.all()
        ],
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


async def erase_account(session: AsyncSession, account_id: int, password: str) -> None:
    """Erase the person's data: addresses and sign-in identities go, the account row stays
    (orders keep pointing at it) with nothing personal left in it."""
    account = await _account(session, account_id)
    if account.password_hash is not None and not verify_password(account.password_hash, password):
        raise FieldError("password", "That is not your password.")
    await session.execute(delete(Address).where(col(Address.account_id) == account.id))
    await session.execute(delete(OidcIdentity).where(col(OidcIdentity.account_id) == account.id))
    await oauth_refresh_tokens.revoke_account_tokens(session, account.id or 0)
    account.email = f"erased-{account.id}@invalid"
    account.full_name = ""
    account.password_hash = None
    account.totp_secret = None
    account.role = None
    account.email_verified = False
    account.erased_at = func.now()  # type: ignore[assignment]
    await session.flush()
