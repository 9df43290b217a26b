"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the codes
authenticator apps show, for staff sign-in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote

STEP_SECONDS = 30
DIGITS = 6


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def code_at(secret: str, moment: float) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int(moment // STEP_SECONDS))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def verify_code(secret: str, code: str, now: float | None = None) -> bool:
    """Accepts the code of this step or a neighbouring one (clocks drift, people type slowly)."""
    typed = code.replace(" ", "").strip()
    if len(typed) != DIGITS or not typed.isdigit():
        return False
    moment = time.time() if now is None else now
    return any(
        hmac.compare_digest(code_at(secret, moment + drift * STEP_SECONDS), typed)
        for drift in (-1, 0, 1)
    )


def provisioning_uri(secret: str, email: str, issuer: str = "Edgecart") -> str:
    """The otpauth:// address an authenticator app reads (usually from a QR code)."""
    return f"otpauth://totp/{quote(issuer)}:{quote(email)}?secret={secret}&issuer={quote(issuer)}"
