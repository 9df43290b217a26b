"""Checks on what people type into account forms: e-mail addresses, passwords, names and
postal addresses. Each check returns a cleaned value or raises FieldError with a message
safe to show next to the field."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # argon2 takes any length; this bounds the work per attempt
_LOCAL = re.compile(r"^[^\s@\"(),:;<>\[\\\]]{1,64}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([^\W_]([\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}$")


class FieldError(ValueError):
    """One field's input is not acceptable; `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def clean_text(value: str, field: str, *, max_length: int, required: bool = True) -> str:
    """NFC-normalised, trimmed, without control characters."""
    cleaned = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(char) in {"Cc", "Cf"} for char in cleaned):
        raise FieldError(field, "Please remove the invisible or control characters.")
    if required and not cleaned:
        raise FieldError(field, "Please fill this in.")
    if len(cleaned) > max_length:
        raise FieldError(field, f"Please keep this to {max_length} characters or fewer.")
    return cleaned


def normalise_email(value: str, field: str = "email") -> str:
    """One spelling per mailbox: NFKC-normalised, trimmed, lower case (shops treat the local
    part case-insensitively too, as every large mail provider does)."""
    cleaned = unicodedata.normalize("NFKC", value).strip().lower()
    if not cleaned:
        raise FieldError(field, "Please enter your e-mail address.")
    local, at, domain = cleaned.rpartition("@")
    if (
        not at
        or len(cleaned) > 254
        or not _LOCAL.match(local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or not _DOMAIN.match(domain)
    ):
        raise FieldError(
            field, "That does not look like an e-mail address (like name@example.com)."
        )
    return cleaned


def check_password(value: str, field: str = "password") -> str:
    if len(value) < MIN_PASSWORD_LENGTH:
        raise FieldError(field, f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(value) > MAX_PASSWORD_LENGTH:
        raise FieldError(field, f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if value.strip() == "" or len(set(value)) < 4:
        raise FieldError(field, "Choose a password that is harder to guess.")
    return value


@dataclass(frozen=True)
class PostalRule:
    name: str
    postal_code: re.Pattern[str]
    example: str
    region_required: bool = False


# Countries the demo shop ships to; the checkout issue reads the same table.
COUNTRIES: dict[str, PostalRule] = {
    "AT": PostalRule("Austria", re.compile(r"^\d{4}$"), "1010"),
    "BE": PostalRule("Belgium", re.compile(r"^\d{4}$"), "1000"),
    "DE": PostalRule("Germany", re.compile(r"^\d{5}$"), "10115"),
    "DK": PostalRule("Denmark", re.compile(r"^\d{4}$"), "1050"),
    "ES": PostalRule("Spain", re.compile(r"^\d{5}$"), "28001"),
    "FR": PostalRule("France", re.compile(r"^\d{5}$"), "75001"),
    "GB": PostalRule(
        "United Kingdom", re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"), "SW1A 1AA"
    ),
    "IE": PostalRule(
        "Ireland", re.compile(r"^([AC-FHKNPRTV-Y]\d{2}|D6W) ?[0-9AC-FHKNPRTV-Y]{4}$"), "D02 X285"
    ),
    "IT": PostalRule("Italy", re.compile(r"^\d{5}$"), "00118"),
    "NL": PostalRule("Netherlands", re.compile(r"^\d{4} ?[A-Z]{2}$"), "1012 AB"),
    "PL": PostalRule("Poland", re.compile(r"^\d{2}-\d{3}$"), "00-001"),
    "SE": PostalRule("Sweden", re.compile(r"^\d{3} ?\d{2}$"), "111 22"),
    "US": PostalRule("United States", re.compile(r"^\d{5}(-\d{4})?$"), "94105", True),
}


def check_postal_code(country: str, postal_code: str) -> tuple[str, str]:
    """The country code and postal code, upper-cased and checked against the country's format."""
    code = country.strip().upper()
    if code not in COUNTRIES:
        raise FieldError("country", "Please choose a country we ship to.")
    cleaned = re.sub(r"\s+", " ", postal_code.strip().upper())
    rule = COUNTRIES[code]
    if not rule.postal_code.match(cleaned):
        raise FieldError(
            "postal_code", f"That is not a postal code in {rule.name} (like {rule.example})."
        )
    return code, cleaned


_PHONE = re.compile(r"^\+?[\d ()-]{6,20}$")


def check_phone(value: str) -> str:
    cleaned = value.strip()
    if cleaned and not _PHONE.match(cleaned):
        raise FieldError(
            "phone", "Use digits, spaces and an optional leading + (like +49 30 1234567)."
        )
    return cleaned
