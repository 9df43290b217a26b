"""Registered OAuth clients: registering one, authenticating it, and what it may ask for.

Client secrets are 256 random bits, so a SHA-256 of the secret is as good as a slow password
hash here and costs nothing per token request. Free of HTTP; never commits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import OAuthClient
from app.accounts.oauth_errors import OAuthError, invalid_client, invalid_scope
from app.accounts.oauth_scopes import (
    ACCOUNT_SCOPES,
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    GRANT_TYPES,
    SCOPES,
    parse_scope,
)

__all__ = [
    "ClientError",
    "authenticate_client",
    "find_client",
    "granted_scopes",
    "register_client",
    "require_grant",
    "valid_redirect_uri",
]

_LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}
# Characters a redirect URI never needs; excluding them keeps URIs safe inside a CSP header.
_UNSAFE = re.compile(r"[\s;,'\"<>\\]")
_PRIVATE_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+")  # com.example.app (RFC 8252)


class ClientError(ValueError):
    """Input that cannot register a client (for the CLI); the message is safe to show."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def valid_redirect_uri(uri: str) -> bool:
    """https anywhere, http only on the loopback interface, or an app's private-use scheme
    (RFC 8252); absolute, without a fragment."""
    if not uri or len(uri) > 500 or _UNSAFE.search(uri):
        return False
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        return False
    if parts.scheme == "https":
        return bool(parts.hostname)
    if parts.scheme == "http":
        return parts.netloc.rsplit(":", 1)[0] in _LOOPBACK if parts.netloc else False
    return bool(_PRIVATE_SCHEME.fullmatch(parts.scheme)) and bool(parts.path)


async def register_client(
    session: AsyncSession,
    name: str,
    grant_types: list[str],
    scopes: list[str],
    redirect_uris: list[str],
    *,
    public: bool = False,
) -> tuple[OAuthClient, str | None]:
    """A new client and its secret (None for a public client): the secret is shown once."""
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise ClientError("the name must be 1 to 120 characters")
    grants = list(dict.fromkeys(grant_types))
    if not grants or any(grant not in GRANT_TYPES for grant in grants):
        raise ClientError("--grant must be " + " or ".join(GRANT_TYPES))
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if not scopes or unknown:
        raise ClientError("--scope must be one or more of " + ", ".join(SCOPES))
    if AUTHORIZATION_CODE not in grants and ACCOUNT_SCOPES & set(scopes):
        raise ClientError(
            "scope profile needs --grant authorization_code (it is about a signed-in person)"
        )
    if public and CLIENT_CREDENTIALS in grants:
        raise ClientError("a --public client cannot use client_credentials (it has no secret)")
    if AUTHORIZATION_CODE in grants and not redirect_uris:
        raise ClientError("authorization_code needs at least one --redirect-uri")
    if AUTHORIZATION_CODE not in grants and redirect_uris:
        raise ClientError("--redirect-uri is only for authorization_code clients")
    for uri in redirect_uris:
        if not valid_redirect_uri(uri):
            raise ClientError(
                f"redirect URI {uri!r} must be https://…, http://127.0.0.1:…/… (or localhost), "
                "or an app scheme like com.example.app:/callback, without a #fragment"
            )
    secret = None if public else secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=secrets.token_urlsafe(16),
        secret_hash=None if secret is None else _hash(secret),
        name=name,
        grant_types=grants,
        scopes=list(dict.fromkeys(scopes)),
        redirect_uris=list(dict.fromkeys(redirect_uris)),
    )
    session.add(client)
    await session.flush()
    return client, secret


async def find_client(session: AsyncSession, client_id: str) -> OAuthClient | None:
    """An enabled client, or None."""
    if not client_id or len(client_id) > 64:
        return None
    client = await session.get(OAuthClient, client_id)
    return None if client is None or client.disabled else client


async def authenticate_client(
    session: AsyncSession, client_id: str, secret: str | None
) -> OAuthClient:
    """The client if its secret is right; a public client sends none. Raises invalid_client."""
    client = await find_client(session, client_id)
    expected = client.secret_hash if client is not None else None
    if client is None or (expected is None) != (secret is None):
        raise invalid_client()
    if expected is not None and not hmac.compare_digest(expected, _hash(secret or "")):
        raise invalid_client()
    return client


def granted_scopes(client: OAuthClient, requested: str | None, grant_type: str) -> list[str]:
    """The scopes a token gets: those asked for, all of them allowed to the client and the
    grant; absent means everything the client may have. Raises invalid_scope."""
    usable = [
        scope
        for scope in client.scopes
        if grant_type == AUTHORIZATION_CODE or scope not in ACCOUNT_SCOPES
    ]
    if requested is None:
        if not usable:
            raise invalid_scope("This client has no scope it may use with this grant.")
        return usable
    wanted = parse_scope(requested)
    refused = [scope for scope in wanted if scope not in usable]
    if not wanted or refused:
        raise invalid_scope(
            "Scope not allowed for this client: " + " ".join(refused or ["(empty)"]) + "."
        )
    return wanted


def require_grant(client: OAuthClient, grant_type: str) -> None:
    if grant_type not in client.grant_types:
        raise OAuthError("unauthorized_client", f"This client may not use {grant_type}.")
