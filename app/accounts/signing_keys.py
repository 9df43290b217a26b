"""The keys that sign access tokens: made, rotated, encrypted at rest, published, cached.

The newest unretired key signs. Rotating makes a new key and retires the old one, which keeps
verifying (and stays in the JWKS) until every token it signed has expired. The `kid` is the key's
RFC 7638 thumbprint. Private keys are stored encrypted with AES-GCM under a key derived from
SECRET_KEY (HKDF), so a copy of the table alone signs nothing.

`KeyCache` (one per app, on `app.state.signing_keys`) keeps keys in memory briefly, so a request
with a token costs no database round trip; on a miss it reads in a short transaction of its own,
because key material is infrastructure shared by every request rather than part of one.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import ECKey, Key, RSAKey
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.accounts.models import SigningKey
from app.db import SessionMaker, transaction

ALGORITHMS = ("ES256", "RS256")
# Clock skew allowed between instances, and the extra time a retired key stays published.
LEEWAY_SECONDS = 60
# Retired keys are deleted this long after retiring (far beyond any token's lifetime).
FORGET_AFTER = timedelta(days=1)
_LOCK = 0x0A07_5167  # pg_advisory_xact_lock id: one key maker at a time
_VERSION = "v1."


class SigningKeyError(Exception):
    """A signing key cannot be used (e.g. SECRET_KEY changed since it was made)."""


@dataclass(frozen=True)
class PrivateKey:
    kid: str
    algorithm: str
    key: Key


@dataclass(frozen=True)
class PublicKey:
    kid: str
    algorithm: str
    key: Key


def _aead(secret: str) -> AESGCM:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"edgecart oauth signing keys v1"
    ).derive(secret.encode())
    return AESGCM(derived)


def encrypt_private_key(secret: str, kid: str, pem: bytes) -> str:
    nonce = os.urandom(12)
    sealed = _aead(secret).encrypt(nonce, pem, kid.encode())
    return _VERSION + base64.b64encode(nonce + sealed).decode()


def decrypt_private_key(secret: str, kid: str, stored: str) -> bytes:
    if not stored.startswith(_VERSION):
        raise SigningKeyError(f"signing key {kid} is in an unknown format")
    raw = base64.b64decode(stored.removeprefix(_VERSION))
    try:
        return _aead(secret).decrypt(raw[:12], raw[12:], kid.encode())
    except InvalidTag:
        raise SigningKeyError(
            f"signing key {kid} cannot be decrypted (SECRET_KEY changed?): "
            "run `edgecart rotate-signing-key`"
        ) from None


def _generate(algorithm: str) -> ECKey | RSAKey:
    if algorithm == "ES256":
        return ECKey.generate_key("P-256", private=True, auto_kid=False)
    if algorithm == "RS256":
        return RSAKey.generate_key(2048, private=True, auto_kid=False)
    raise ValueError(f"unsupported signing algorithm {algorithm!r}")


def public_key(row: SigningKey) -> PublicKey:
    jwk = row.public_jwk
    key = ECKey.import_key(jwk) if jwk["kty"] == "EC" else RSAKey.import_key(jwk)
    return PublicKey(row.kid, row.algorithm, key)


def private_key(row: SigningKey, secret: str) -> PrivateKey:
    pem = decrypt_private_key(secret, row.kid, row.private_key)
    key = ECKey.import_key(pem) if row.algorithm == "ES256" else RSAKey.import_key(pem)
    return PrivateKey(row.kid, row.algorithm, key)


async def create_signing_key(session: AsyncSession, secret: str, algorithm: str) -> SigningKey:
    """A new current key; the one that was current is retired (it keeps verifying)."""
    await session.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK})"))
    key = _generate(algorithm)
    kid = key.thumbprint()
    public = {**key.as_dict(private=False), "kid": kid, "alg": algorithm, "use": "sig"}
    await session.execute(
        update(SigningKey).where(col(SigningKey.retired_at).is_(None)).values(retired_at=_now())
    )
    await session.execute(
        delete(SigningKey).where(col(SigningKey.retired_at) < _now() - FORGET_AFTER)
    )
    row = SigningKey(
        kid=kid,
        algorithm=algorithm,
        private_key=encrypt_private_key(secret, kid, key.as_pem(private=True)),
        public_jwk=public,
    )
    session.add(row)
    await session.flush()
    return row


async def current_signing_key(session: AsyncSession, secret: str, algorithm: str) -> PrivateKey:
    """The key that signs now, made on first use when there is none."""
    row = await _current_row(session)
    if row is None:
        await session.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK})"))
        row = await _current_row(session)  # another instance may have made one meanwhile
        if row is None:
            row = await create_signing_key(session, secret, algorithm)
    return private_key(row, secret)


async def _current_row(session: AsyncSession) -> SigningKey | None:
    found = await session.execute(
        select(SigningKey).where(col(SigningKey.retired_at).is_(None)).limit(1)
    )
    return found.scalar_one_or_none()


async def verification_keys(session: AsyncSession, token_lifetime: int) -> list[PublicKey]:
    """The current key and the retired ones whose tokens may still be valid, newest first."""
    oldest = _now() - timedelta(seconds=token_lifetime + LEEWAY_SECONDS)
    found = await session.execute(
        select(SigningKey)
        .where(col(SigningKey.retired_at).is_(None) | (col(SigningKey.retired_at) > oldest))
        .order_by(col(SigningKey.created_at).desc())
    )
    return [public_key(row) for row in found.scalars()]


def jwks(keys: list[PublicKey]) -> dict[str, list[dict[str, object]]]:
    """A JSON Web Key Set (RFC 7517) of public keys."""
    published: list[dict[str, object]] = []
    for key in keys:
        jwk = dict(key.key.as_dict(private=False))
        published.append({**jwk, "kid": key.kid, "alg": key.algorithm, "use": "sig"})
    return {"keys": published}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class KeyCache:
    """Keys kept in memory for `ttl` seconds; an unknown kid reloads at most every `retry`."""

    secret: str
    algorithm: str
    token_lifetime: int
    ttl: float = 60.0
    retry: float = 5.0
    _signing: tuple[float, PrivateKey] | None = None
    _public: dict[str, PublicKey] = field(default_factory=dict)
    _public_at: float = float("-inf")

    async def signing_key(self, sessionmaker: SessionMaker) -> PrivateKey:
        now = time.monotonic()
        if self._signing is None or now - self._signing[0] > self.ttl:
            async with transaction(sessionmaker) as session:
                key = await current_signing_key(session, self.secret, self.algorithm)
            self._signing = (now, key)
        return self._signing[1]

    async def public_key(self, sessionmaker: SessionMaker, kid: str) -> PublicKey | None:
        age = time.monotonic() - self._public_at
        if age > self.ttl or (kid not in self._public and age > self.retry):
            async with transaction(sessionmaker) as session:
                keys = await verification_keys(session, self.token_lifetime)
            self._public = {key.kid: key for key in keys}
            self._public_at = time.monotonic()
        return self._public.get(kid)

    def forget(self) -> None:
        """Drop what is cached (after a rotation in this process)."""
        self._signing = None
        self._public = {}
        self._public_at = float("-inf")
