"""Password-reset links: single use, expiring, and only the newest one works.

The token is random and lives only in the mail; Redis keeps its hash (with a TTL) pointing at
the account, and the account's current hash, so asking again retires the older link. The
mail goes through the outbox with the caller's transaction. Free of HTTP.
"""

from __future__ import annotations

import hashlib
import secrets

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.service import find_account_by_email
from app.accounts.validation import FieldError, normalise_email
from app.notifications.service import queue_email

RESET_SECONDS = 3600
_LINK = "edgecart:password-reset:"
_CURRENT = "edgecart:password-reset-for:"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def request_reset(session: AsyncSession, redis: Redis, email: str, link_prefix: str) -> bool:
    """Mail a reset link (`link_prefix` + token) if an account has this address. The caller
    tells the person the same thing either way; the result is for tests and logs."""
    try:
        address = normalise_email(email)
    except FieldError:
        return False
    account = await find_account_by_email(session, address)
    if account is None or account.erased_at is not None or account.id is None:
        return False
    token = secrets.token_urlsafe(32)
    digest = _hash(token)
    previous = await redis.getset(f"{_CURRENT}{account.id}", digest)
    async with redis.pipeline(transaction=True) as pipe:
        if previous:
            pipe.delete(f"{_LINK}{previous}")
        pipe.set(f"{_LINK}{digest}", str(account.id), ex=RESET_SECONDS)
        pipe.expire(f"{_CURRENT}{account.id}", RESET_SECONDS)
        await pipe.execute()
    context = {"reset_url": link_prefix + token, "expires_minutes": RESET_SECONDS // 60}
    await queue_email(session, account.email, "password_reset", context, key=f"reset:{digest}")
    return True


async def reset_link_works(redis: Redis, token: str) -> bool:
    return len(token) < 100 and bool(await redis.exists(f"{_LINK}{_hash(token)}"))


async def use_reset_link(redis: Redis, token: str) -> int | None:
    """The account the link belongs to, once: the link is gone afterwards."""
    if len(token) >= 100:
        return None
    found = await redis.getdel(f"{_LINK}{_hash(token)}")
    if found is None:
        return None
    await redis.delete(f"{_CURRENT}{found}")
    return int(found)
