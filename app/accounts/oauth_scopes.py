"""What OAuth clients may ask for: scopes and grant types (docs/oauth.md)."""

from __future__ import annotations

# Scope → what the consent page tells the person (and the OpenAPI document tells developers).
SCOPES = {
    "catalog:read": "Read the catalog and search (public anyway; counted against your limit).",
    "orders:read": "See orders.",
    "orders:write": "Place and change orders.",
    "profile": "See your name and e-mail address.",
}
# Scopes about a person: only tokens issued to a signed-in person (authorization code) hold them.
ACCOUNT_SCOPES = frozenset({"profile"})
CLIENT_CREDENTIALS = "client_credentials"
AUTHORIZATION_CODE = "authorization_code"
REFRESH_TOKEN = "refresh_token"  # noqa: S105  (a grant type's name)
GRANT_TYPES = (CLIENT_CREDENTIALS, AUTHORIZATION_CODE)


def parse_scope(text: str) -> list[str]:
    """A `scope` parameter (space-separated, RFC 6749 §3.3) as a list without repeats."""
    return list(dict.fromkeys(text.split()))


def format_scope(scopes: list[str] | frozenset[str]) -> str:
    return " ".join(sorted(scopes))
