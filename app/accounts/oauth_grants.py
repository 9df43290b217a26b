"""The token endpoint's rules (RFC 6749 §4-6): client credentials, authorization code with
PKCE, and refresh tokens with rotation. Free of HTTP; never commits — and the caller commits
even when an OAuthError comes out, because a replayed code or refresh token revokes its grant.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import oauth_codes, oauth_refresh_tokens
from app.accounts.models import OAuthClient
from app.accounts.oauth_clients import authenticate_client, granted_scopes, require_grant
from app.accounts.oauth_errors import OAuthError, invalid_grant, invalid_request, invalid_scope
from app.accounts.oauth_scopes import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    REFRESH_TOKEN,
    format_scope,
    parse_scope,
)
from app.accounts.oauth_tokens import AccessClaims, mint_access_token, revoke_access_token
from app.accounts.service import get_account
from app.accounts.signing_keys import PrivateKey


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    access_seconds: int
    refresh_days: int
    key: PrivateKey


@dataclass(frozen=True)
class TokenRequest:
    """The token endpoint's parameters (absent ones are None)."""

    client_id: str
    client_secret: str | None
    grant_type: str | None
    scope: str | None = None
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None
    refresh_token: str | None = None


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None

    def as_json(self) -> dict[str, str | int]:
        body: dict[str, str | int] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


async def exchange(
    session: AsyncSession, redis: Redis, request: TokenRequest, policy: TokenPolicy
) -> IssuedTokens:
    """Authenticate the client, then grant what the request asks for or raise OAuthError."""
    client = await authenticate_client(session, request.client_id, request.client_secret)
    if request.grant_type is None:
        raise invalid_request("grant_type is missing.")
    if request.grant_type == CLIENT_CREDENTIALS:
        require_grant(client, CLIENT_CREDENTIALS)
        scopes = granted_scopes(client, request.scope, CLIENT_CREDENTIALS)
        return _tokens(policy, client, None, scopes)
    if request.grant_type == AUTHORIZATION_CODE:
        return await _authorization_code(session, redis, client, request, policy)
    if request.grant_type == REFRESH_TOKEN:
        return await _refresh(session, client, request, policy)
    raise OAuthError("unsupported_grant_type", f"grant_type {request.grant_type!r} is unsupported.")


async def _authorization_code(
    session: AsyncSession,
    redis: Redis,
    client: OAuthClient,
    request: TokenRequest,
    policy: TokenPolicy,
) -> IssuedTokens:
    require_grant(client, AUTHORIZATION_CODE)
    if not (request.code and request.redirect_uri and request.code_verifier):
        raise invalid_request("code, redirect_uri and code_verifier are required.")
    grant = await oauth_codes.take_code(redis, request.code)
    if grant is None:
        replayed = await oauth_codes.spent_family(redis, request.code)
        if replayed is not None:
            await oauth_refresh_tokens.revoke_family(session, replayed)
        raise invalid_grant("The authorization code is invalid, expired or already used.")
    if grant.client_id != client.client_id:
        raise invalid_grant("The authorization code was issued to another client.")
    if grant.redirect_uri != request.redirect_uri:
        raise invalid_grant("redirect_uri differs from the one in the authorization request.")
    if not oauth_codes.verifier_matches(request.code_verifier, grant.code_challenge):
        raise invalid_grant("code_verifier does not match the code_challenge.")
    if await get_account(session, grant.account_id) is None:
        raise invalid_grant("The account no longer exists.")
    family = oauth_refresh_tokens.new_family()
    refresh = await oauth_refresh_tokens.issue_refresh_token(
        session,
        client_id=client.client_id,
        account_id=grant.account_id,
        scopes=grant.scopes,
        days=policy.refresh_days,
        family_id=family,
    )
    await oauth_codes.mark_spent(redis, request.code, family)
    return _tokens(policy, client, grant.account_id, grant.scopes, refresh)


async def _refresh(
    session: AsyncSession, client: OAuthClient, request: TokenRequest, policy: TokenPolicy
) -> IssuedTokens:
    # Refresh tokens are only ever issued with authorization codes.
    require_grant(client, AUTHORIZATION_CODE)
    if not request.refresh_token:
        raise invalid_request("refresh_token is missing.")
    # The client may have lost scopes since the grant; the token never carries more than now.
    # Checked before the token is spent, so a refused narrowing leaves it usable.
    granted = await oauth_refresh_tokens.refresh_token_scopes(
        session, client_id=client.client_id, token=request.refresh_token
    )
    scopes = [scope for scope in granted if scope in client.scopes]
    if request.scope is not None and granted:  # an unknown token is invalid_grant, below
        wanted = parse_scope(request.scope)
        if not wanted or any(scope not in scopes for scope in wanted):
            raise invalid_scope("A refreshed token may only narrow the scope of its grant.")
        scopes = wanted
    refreshed = await oauth_refresh_tokens.rotate_refresh_token(
        session, client_id=client.client_id, token=request.refresh_token, days=policy.refresh_days
    )
    account_id = refreshed.account_id
    if account_id is not None and await get_account(session, account_id) is None:
        raise invalid_grant("The account no longer exists.")
    return _tokens(policy, client, refreshed.account_id, scopes, refreshed.token)


def _tokens(
    policy: TokenPolicy,
    client: OAuthClient,
    account_id: int | None,
    scopes: list[str],
    refresh_token: str | None = None,
) -> IssuedTokens:
    access = mint_access_token(
        policy.key,
        issuer=policy.issuer,
        client_id=client.client_id,
        account_id=account_id,
        scopes=scopes,
        lifetime=policy.access_seconds,
    )
    scope = format_scope(frozenset(scopes))
    return IssuedTokens(access, policy.access_seconds, scope, refresh_token)


async def revoke(
    session: AsyncSession,
    redis: Redis,
    client_id: str,
    secret: str | None,
    token: str,
    access: AccessClaims | None,
) -> None:
    """RFC 7009: revoke the client's refresh token (its whole grant) or access token. Another
    client's token, or an unknown one, is silently left alone."""
    client = await authenticate_client(session, client_id, secret)
    if access is not None:
        if access.client_id == client.client_id:
            await revoke_access_token(redis, access)
        return
    await oauth_refresh_tokens.revoke_refresh_token(
        session, client_id=client.client_id, token=token
    )
