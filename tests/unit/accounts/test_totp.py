from __future__ import annotations

import base64

from app.accounts import totp

# RFC 6238, appendix B: the SHA-1 secret is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


def test_codes_match_the_rfc_test_vectors() -> None:
    # The RFC lists 8 digits; the last 6 are what a 6-digit app shows.
    assert totp.code_at(RFC_SECRET, 59) == "287082"
    assert totp.code_at(RFC_SECRET, 1111111109) == "081804"
    assert totp.code_at(RFC_SECRET, 2000000000) == "279037"


def test_the_neighbouring_step_is_accepted_and_older_ones_are_not() -> None:
    now = 1_000_000.0
    assert totp.verify_code(RFC_SECRET, totp.code_at(RFC_SECRET, now - 30), now)
    assert not totp.verify_code(RFC_SECRET, totp.code_at(RFC_SECRET, now - 90), now)
    assert not totp.verify_code(RFC_SECRET, "12345", now)
    assert not totp.verify_code(RFC_SECRET, "abcdef", now)
