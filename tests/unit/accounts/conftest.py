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
