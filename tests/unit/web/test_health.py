from __future__ import annotations

import httpx
import pytest

from app.main import create_starlette, serve_static
from app.settings import Settings

pytestmark = pytest.mark.anyio


async def test_healthz_answers_while_the_process_lives(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "private, no-store"


async def test_readyz_reports_database_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


async def test_readyz_is_503_when_nothing_is_reachable(broken_settings: Settings) -> None:
    starlette = create_starlette(broken_settings)
    transport = httpx.ASGITransport(app=serve_static(starlette, broken_settings))
    async with (
        starlette.router.lifespan_context(starlette),
        httpx.AsyncClient(transport=transport, base_url="http://shop.test") as http,
    ):
        response = await http.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unreachable", "redis": "unreachable"},
    }


async def test_metrics_count_requests_by_handler_in_prometheus_text(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/")
    await client.get("/products/no-such-thing")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    assert 'edgecart_requests_total{handler="home",method="GET",status="200"} 1' in lines
    assert 'edgecart_requests_total{handler="product",method="GET",status="404"} 1' in lines
    assert 'edgecart_request_seconds_count{handler="home"} 1' in lines
