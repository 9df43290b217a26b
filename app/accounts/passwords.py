"""Password hashing with argon2id, and a verification that costs the same for an unknown
e-mail address as for a wrong password."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import Argon2Error, InvalidHashError

_hasher = PasswordHasher()
# Verified against when there is no account (or no password), so the time taken does not
# tell an attacker which e-mail addresses have accounts.
_DUMMY_HASH = _hasher.hash("edgecart: no account has this password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (Argon2Error, InvalidHashError):
        return False
