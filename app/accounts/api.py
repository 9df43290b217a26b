"""/api/v1/me: who the access token acts for. Needs the `profile` scope, which only tokens
issued to a signed-in person (authorization code) can hold: a partner's own client-credentials
token gets 403. The answer is personal: `private, no-store`, never cached at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.accounts import service as accounts
from app.db import transaction
from app.web.api import ApiError, private_response
from app.web.bearer import challenge, require_scope
from app.web.openapi import describe

SCOPE = "profile"


@dataclass(frozen=True)
class AccountProfile:
    """The person the access token was issued to."""

    id: Annotated[int, describe("The account id (the token's `sub`).", minimum=1)]
    email: Annotated[str, describe("The account's e-mail address.")]
    name: Annotated[str, describe("The name to address the person by.")]


async def me(request: Request) -> Response:
    claims = await require_scope(request, SCOPE)
    if claims.account_id is None:
        message = "This token acts for a client, not a person: use the authorization code flow."
        raise ApiError(403, "insufficient_scope", message, challenge("insufficient_scope", message))
    async with transaction(request.app.state.sessionmaker) as session:
        account = await accounts.get_account(session, claims.account_id)
    if account is None:
        message = "The account of this token no longer exists."
        raise ApiError(401, "invalid_token", message, challenge("invalid_token", message))
    return private_response(AccountProfile(claims.account_id, account.email, account.display_name))


routes = [Route("/api/v1/me", me, name="api_me")]
