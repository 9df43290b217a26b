from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.routing import Route

from app.main import create_starlette, serve_static
from app.settings import Settings

pytestmark = pytest.mark.anyio


async def _explode(request: Request) -> None:
    raise RuntimeError("boom: a secret detail that must not leak")


async def test_an_unexpected_error_shows_a_calm_page_with_the_request_id(
    settings: Settings,
) -> None:
    starlette = create_starlette(settings)
    starlette.router.routes.append(Route("/explode", _explode))
    app = serve_static(starlette, settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        starlette.router.lifespan_context(starlette),
        httpx.AsyncClient(transport=transport, base_url="http://shop.test") as http,
    ):
        response = await http.get("/explode", headers={"X-Request-ID": "qa-boom-0001"})

    assert response.status_code == 500
    assert "qa-boom-0001" in response.text
    assert response.headers["x-request-id"] == "qa-boom-0001"
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text


async def test_api_errors_are_json_code_and_message(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not Found"}
