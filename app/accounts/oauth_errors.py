"""Errors of the authorization server, with the codes of RFC 6749 §5.2 and §4.1.2.1."""

from __future__ import annotations


class OAuthError(Exception):
    """An OAuth error: `code` is the RFC's `error`, `description` is safe to show."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description

    @property
    def status_code(self) -> int:
        return 401 if self.code == "invalid_client" else 400


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_client() -> OAuthError:
    # One answer for an unknown client, a wrong secret and a disabled client.
    return OAuthError("invalid_client", "Client authentication failed.")


def invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


def invalid_scope(description: str) -> OAuthError:
    return OAuthError("invalid_scope", description)
