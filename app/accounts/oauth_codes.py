"""Authorization codes in Redis: 60 seconds, single use, bound to the client, the redirect URI,
the PKCE challenge (S256 only) and the person who approved.

A spent code leaves a marker naming the grant it started, so a replayed code can revoke that
grant's refresh tokens (RFC 6749 §4.1.2). Free of HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass

from redis.asyncio import Redis

CODE_SECONDS = 60
SPENT_SECONDS = 600
_CODE = "edgecart:oauth:code:"
_SPENT = "edgecart:oauth:code-spent:"
# RFC 7636 §4.1: 43 to 128 unreserved characters.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")  # BASE64URL(SHA256(verifier)), no padding


@dataclass(frozen=True)
class CodeGrant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    account_id: int
    scopes: list[str]


def _key(prefix: str, code: str) -> str:
    return prefix + hashlib.sha256(code.encode()).hexdigest()


def valid_challenge(challenge: str) -> bool:
    return bool(_CHALLENGE.fullmatch(challenge))


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def verifier_matches(verifier: str, challenge: str) -> bool:
    if not _VERIFIER.fullmatch(verifier):
        return False
    return hmac.compare_digest(s256(verifier), challenge)


async def create_code(redis: Redis, grant: CodeGrant) -> str:
    code = secrets.token_urlsafe(32)
    await redis.set(_key(_CODE, code), json.dumps(asdict(grant)), ex=CODE_SECONDS)
    return code


async def take_code(redis: Redis, code: str) -> CodeGrant | None:
    """The code's grant, once: the code is gone after this (GETDEL)."""
    if not code or len(code) > 100:
        return None
    raw = await redis.getdel(_key(_CODE, code))
    return None if raw is None else CodeGrant(**json.loads(raw))


async def mark_spent(redis: Redis, code: str, family_id: str) -> None:
    await redis.set(_key(_SPENT, code), family_id, ex=SPENT_SECONDS)


async def spent_family(redis: Redis, code: str) -> str | None:
    """The grant family a spent code started, if the code was spent recently."""
    if not code or len(code) > 100:
        return None
    family: str | None = await redis.get(_key(_SPENT, code))
    return family
