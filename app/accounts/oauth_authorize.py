"""The authorization endpoint's rules (RFC 6749 §4.1, PKCE per RFC 7636, S256 only).

A request naming an unknown client or an unregistered redirect URI is shown as an error and
never redirected (`UnsafeRequest`); any other fault goes back to the client's redirect URI as
`error=…` (`RedirectError`). Answers carry `iss` (RFC 9207). Free of HTTP; never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import oauth_codes
from app.accounts.models import OAuthClient
from app.accounts.oauth_clients import find_client, granted_scopes
from app.accounts.oauth_errors import OAuthError
from app.accounts.oauth_scopes import AUTHORIZATION_CODE

_PARAMETERS = ("response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
               "code_challenge_method")  # fmt: skip
MAX_STATE = 500


class UnsafeRequest(Exception):
    """The request cannot be answered at its redirect URI; the message is safe to show."""


class RedirectError(Exception):
    """An error to send back to the client at `url`."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@dataclass(frozen=True)
class AuthorizationRequest:
    client: OAuthClient
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str

    def form_fields(self) -> dict[str, str]:
        """The request again, as the consent form posts it back."""
        fields = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scopes),
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }
        return fields | ({"state": self.state} if self.state is not None else {})


def _single(items: Sequence[tuple[str, str]]) -> tuple[dict[str, str], set[str]]:
    values: dict[str, str] = {}
    repeated = set()
    for name, value in items:
        if name in _PARAMETERS:
            if name in values:
                repeated.add(name)
            values[name] = value
    return values, repeated


def answer_url(redirect_uri: str, issuer: str, **params: str | None) -> str:
    """`redirect_uri` with `params` (and `iss`) added to whatever query it already has."""
    parts = urlsplit(redirect_uri)
    added = urlencode({k: v for k, v in {**params, "iss": issuer}.items() if v is not None})
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))


async def check_request(
    session: AsyncSession, items: Sequence[tuple[str, str]], issuer: str
) -> AuthorizationRequest:
    """The authorization request in `items` (query or form), checked."""
    values, repeated = _single(items)
    client = await find_client(session, values.get("client_id", ""))
    if client is None or AUTHORIZATION_CODE not in client.grant_types:
        raise UnsafeRequest("The app that sent you here is not registered with this shop.")
    redirect_uri = values.get("redirect_uri")
    if redirect_uri is None and len(client.redirect_uris) == 1:
        redirect_uri = client.redirect_uris[0]
    registered = redirect_uri in client.redirect_uris and "redirect_uri" not in repeated
    if redirect_uri is None or not registered:
        raise UnsafeRequest("The app asked to send you back to an address it has not registered.")
    state = values.get("state")

    def fail(code: str, description: str) -> RedirectError:
        return RedirectError(
            answer_url(redirect_uri, issuer, error=code, error_description=description, state=state)
        )

    if repeated:
        raise fail("invalid_request", "Repeated parameter: " + ", ".join(sorted(repeated)))
    if state is not None and len(state) > MAX_STATE:
        raise fail("invalid_request", f"state is longer than {MAX_STATE} characters.")
    if values.get("response_type") != "code":
        raise fail("unsupported_response_type", "response_type must be code.")
    challenge = values.get("code_challenge", "")
    if values.get("code_challenge_method") != "S256" or not oauth_codes.valid_challenge(challenge):
        raise fail("invalid_request", "PKCE is required: code_challenge with method S256.")
    try:
        scopes = granted_scopes(client, values.get("scope"), AUTHORIZATION_CODE)
    except OAuthError as error:
        raise fail(error.code, error.description) from None
    return AuthorizationRequest(client, redirect_uri, scopes, state, challenge)


async def approve(redis: Redis, asked: AuthorizationRequest, account_id: int, issuer: str) -> str:
    """The person said yes: where to send them, with a fresh code."""
    grant = oauth_codes.CodeGrant(
        client_id=asked.client.client_id,
        redirect_uri=asked.redirect_uri,
        code_challenge=asked.code_challenge,
        account_id=account_id,
        scopes=asked.scopes,
    )
    code = await oauth_codes.create_code(redis, grant)
    return answer_url(asked.redirect_uri, issuer, code=code, state=asked.state)


def deny(asked: AuthorizationRequest, issuer: str) -> str:
    return answer_url(
        asked.redirect_uri,
        issuer,
        error="access_denied",
        error_description="The person declined.",
        state=asked.state,
    )
