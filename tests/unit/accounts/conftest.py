from __future__ import annotations

import re

import httpx

from tests.factories.accounts import PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    return await client.post("/account/login", data={"email": email, "password": password, **extra})


async def csrf_token(client: httpx.AsyncClient, page: str = "/account") -> str:
    """The CSRF token a personal page renders into its forms."""
    response = await client.get(page)
    found = _TOKEN.search(response.text)
    assert found, f"no CSRF token on {page} ({response.status_code})"
    return found.group(1)


_FORM_ACTION = re.compile(r'<form method="post" action="(/interaction/[^"]+/(?:login|consent))"')


async def authorize_at_provider(
    authorization_url: str,
    email: str,
    *,
    name: str = "",
    verified: bool = True,
    cancel: bool = False,
) -> dict[str, str]:
    """Sign in and consent at the local OpenID provider as a person would (its own pages and
    cookies), then return the query it sends back to the shop's callback."""
    async with httpx.AsyncClient(timeout=10) as provider:
        response = await provider.get(authorization_url)
        while True:
            if response.is_redirect:
                location = httpx.URL(str(response.url)).join(response.headers["location"])
                if location.path.endswith("/callback"):
                    return dict(location.params)
                response = await provider.get(location)
                continue
            assert response.status_code == 200, response.text
            found = _FORM_ACTION.search(response.text)
            assert found, response.text
            action = found.group(1)
            if cancel:
                action = action.rsplit("/", 1)[0] + "/abort"
            form = {"email": email, "name": name}
            if verified:
                form["email_verified"] = "yes"
            response = await provider.post(response.url.join(action), data=form)
