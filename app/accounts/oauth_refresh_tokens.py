"""Refresh tokens: opaque, stored as their SHA-256, rotated on every use, revocable.

Each grant starts a family. A refresh swaps the token for a new one of the same family; a token
of the family that was already swapped coming back means it was copied, so the whole family is
revoked (OAuth 2.0 Security BCP §4.14). Free of HTTP; never commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.models import OAuthRefreshToken
from app.accounts.oauth_errors import invalid_grant


@dataclass(frozen=True)
class Refreshed:
    """What a refresh token was good for, and the token that replaces it."""

    account_id: int | None
    scopes: list[str]
    token: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_family() -> str:
    return secrets.token_hex(16)


async def issue_refresh_token(
    session: AsyncSession,
    *,
    client_id: str,
    account_id: int | None,
    scopes: list[str],
    days: int,
    family_id: str,
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        OAuthRefreshToken(
            token_hash=_hash(token),
            client_id=client_id,
            account_id=account_id,
            scopes=scopes,
            family_id=family_id,
            expires_at=datetime.now(UTC) + timedelta(days=days),
        )
    )
    await session.flush()
    return token


async def rotate_refresh_token(
    session: AsyncSession, *, client_id: str, token: str, days: int
) -> Refreshed:
    """Spend `token` (once) for a new one. Raises invalid_grant; a reused token revokes its
    family first, so the caller must commit even when this raises."""
    spent = await session.execute(
        update(OAuthRefreshToken)
        .where(
            col(OAuthRefreshToken.token_hash) == _hash(token),
            col(OAuthRefreshToken.client_id) == client_id,
            col(OAuthRefreshToken.used_at).is_(None),
            col(OAuthRefreshToken.revoked_at).is_(None),
            col(OAuthRefreshToken.expires_at) > func.now(),
        )
        .values(used_at=func.now())
        .returning(OAuthRefreshToken)
    )
    row = spent.scalar_one_or_none()
    if row is None:
        await _refuse(session, client_id, token)
    fresh = await issue_refresh_token(
        session,
        client_id=client_id,
        account_id=row.account_id,
        scopes=row.scopes,
        days=days,
        family_id=row.family_id,
    )
    return Refreshed(row.account_id, row.scopes, fresh)


async def _refuse(session: AsyncSession, client_id: str, token: str) -> NoReturn:
    found = await session.execute(
        select(OAuthRefreshToken).where(col(OAuthRefreshToken.token_hash) == _hash(token))
    )
    row = found.scalar_one_or_none()
    if row is not None and row.client_id == client_id and row.used_at is not None:
        await revoke_family(session, row.family_id)
        raise invalid_grant("The refresh token was already used; its grant is revoked.")
    raise invalid_grant("The refresh token is invalid, expired or revoked.")


async def refresh_token_scopes(session: AsyncSession, *, client_id: str, token: str) -> list[str]:
    """The scopes of the client's refresh token, without spending it ([] when unknown)."""
    found = await session.execute(
        select(col(OAuthRefreshToken.scopes)).where(
            col(OAuthRefreshToken.token_hash) == _hash(token),
            col(OAuthRefreshToken.client_id) == client_id,
        )
    )
    return list(found.scalar_one_or_none() or [])


async def revoke_family(session: AsyncSession, family_id: str) -> None:
    await session.execute(
        update(OAuthRefreshToken)
        .where(
            col(OAuthRefreshToken.family_id) == family_id,
            col(OAuthRefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=func.now())
    )


async def revoke_refresh_token(session: AsyncSession, *, client_id: str, token: str) -> bool:
    """Revoke the token's whole grant (RFC 7009 §2.1); False if it is not this client's."""
    found = await session.execute(
        select(col(OAuthRefreshToken.family_id)).where(
            col(OAuthRefreshToken.token_hash) == _hash(token),
            col(OAuthRefreshToken.client_id) == client_id,
        )
    )
    family = found.scalar_one_or_none()
    if family is None:
        return False
    await revoke_family(session, family)
    return True


async def revoke_account_tokens(session: AsyncSession, account_id: int) -> None:
    """Every refresh token of the account (on erasure, password change…)."""
    await session.execute(
        update(OAuthRefreshToken)
        .where(
            col(OAuthRefreshToken.account_id) == account_id,
            col(OAuthRefreshToken.revoked_at).is_(None),
        )
        .values(revoked_at=func.now())
    )
