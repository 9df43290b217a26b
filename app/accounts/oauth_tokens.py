"""Access tokens: short-lived JWTs (RFC 9068 profile) signed with the current signing key.

Claims: iss (SITE_URL), aud (SITE_URL + "/api"), sub (the account id, or "client:<client_id>"
for a partner's own token), client_id, scope, iat, exp, jti; header typ "at+jwt" and the key's
kid. Verification takes the key the kid names and accepts only that key's algorithm, so
`alg: none` and algorithm swaps are refused. Free of HTTP.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry
from redis.asyncio import Redis

from app.accounts.oauth_scopes import format_scope, parse_scope
from app.accounts.signing_keys import LEEWAY_SECONDS, PrivateKey, PublicKey

TOKEN_TYPE = "at+jwt"  # noqa: S105  (the JWT `typ` of access tokens, RFC 9068)
_CLIENT_SUBJECT = "client:"
_REVOKED = "edgecart:oauth:revoked-jti:"


class InvalidToken(Exception):
    """The token is malformed, badly signed, expired or not ours; the message is safe to show."""


@dataclass(frozen=True)
class AccessClaims:
    """What a verified access token says."""

    subject: str
    client_id: str
    account_id: int | None  # None: a client-credentials token, acting for the client itself
    scopes: frozenset[str]
    jti: str
    expires_at: int

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


def audience(site_url: str) -> str:
    return site_url + "/api"


def mint_access_token(
    key: PrivateKey,
    *,
    issuer: str,
    client_id: str,
    account_id: int | None,
    scopes: list[str],
    lifetime: int,
    now: int | None = None,
) -> str:
    issued = int(time.time()) if now is None else now
    claims = {
        "iss": issuer,
        "aud": audience(issuer),
        "sub": str(account_id) if account_id is not None else _CLIENT_SUBJECT + client_id,
        "client_id": client_id,
        "scope": format_scope(frozenset(scopes)),
        "iat": issued,
        "exp": issued + lifetime,
        "jti": secrets.token_urlsafe(16),
    }
    header = {"alg": key.algorithm, "kid": key.kid, "typ": TOKEN_TYPE}
    return jwt.encode(header, claims, key.key, algorithms=[key.algorithm])


def token_kid(token: str) -> str:
    """The `kid` in the token's header, read before the signature is checked."""
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise InvalidToken("The access token is malformed.") from None
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("The access token names no signing key.")
    return kid


def verify_access_token(
    token: str, key: PublicKey, *, issuer: str, now: int | None = None
) -> AccessClaims:
    """The token's claims if `key` signed it and it is ours, current and well-formed."""
    try:
        decoded = jwt.decode(token, key.key, algorithms=[key.algorithm])
        if decoded.header.get("typ") != TOKEN_TYPE:
            raise InvalidToken("This is not an access token.")
        JWTClaimsRegistry(
            now=now,
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience(issuer)},
            sub={"essential": True},
            client_id={"essential": True},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
        ).validate(decoded.claims)
    except JoseError as error:
        raise InvalidToken(_reason(error)) from None
    except (ValueError, TypeError, UnicodeError):
        raise InvalidToken("The access token is malformed.") from None
    return _claims(decoded.claims)


def _reason(error: JoseError) -> str:
    if error.error == "expired_token":
        return "The access token has expired."
    if error.error == "bad_signature":
        return "The access token's signature is not valid."
    return "The access token is not valid."


def _claims(claims: dict[str, object]) -> AccessClaims:
    subject, client_id, scope = claims["sub"], claims["client_id"], claims.get("scope", "")
    if not (isinstance(subject, str) and isinstance(client_id, str) and isinstance(scope, str)):
        raise InvalidToken("The access token is not valid.")
    account_id = None
    if not subject.startswith(_CLIENT_SUBJECT):
        if not subject.isdigit():
            raise InvalidToken("The access token is not valid.")
        account_id = int(subject)
    exp = claims["exp"]
    return AccessClaims(
        subject=subject,
        client_id=client_id,
        account_id=account_id,
        scopes=frozenset(parse_scope(scope)),
        jti=str(claims["jti"]),
        expires_at=int(exp) if isinstance(exp, int | float) else 0,
    )


async def revoke_access_token(redis: Redis, claims: AccessClaims) -> None:
    """Refuse this token from now until it would have expired anyway (RFC 7009)."""
    left = claims.expires_at - int(time.time()) + LEEWAY_SECONDS
    if left > 0:
        await redis.set(_REVOKED + claims.jti, "1", ex=left)


async def is_revoked(redis: Redis, claims: AccessClaims) -> bool:
    return bool(await redis.exists(_REVOKED + claims.jti))
