"""Which API caller made a cart. The cart token is the capability; this binds it to the client
(and, for a token acting for a shopper, that shopper) so a token that leaks to another client
opens nothing. Kept in Redis beside the cart's own lifetime: no table, no migration.
"""

from __future__ import annotations

from redis.asyncio import Redis

from app.accounts.oauth_tokens import AccessClaims
from app.cart.service import KEEP_DAYS

_PREFIX = "edgecart:api-cart:"
# A cart untouched this long is deleted anyway (KEEP_DAYS); every use renews the binding.
_TTL = KEEP_DAYS * 24 * 3600


def _owner(claims: AccessClaims) -> str:
    return f"{claims.client_id} {claims.subject}"


async def claim_cart(redis: Redis, token: str, claims: AccessClaims) -> None:
    await redis.set(_PREFIX + token, _owner(claims), ex=_TTL)


async def owns_cart(redis: Redis, token: str, claims: AccessClaims) -> bool:
    """Did this caller make the cart? Renews the binding when it did."""
    if not token or len(token) > 64:
        return False
    if await redis.get(_PREFIX + token) != _owner(claims):
        return False
    await redis.expire(_PREFIX + token, _TTL)
    return True
