"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app import db, redis
from app.web.caching import keep_private

log = logging.getLogger("edgecart.health")


async def healthz(request: Request) -> Response:
    return keep_private(JSONResponse({"status": "ok"}))


async def readyz(request: Request) -> Response:
    checks: dict[str, str] = {}
    for name, probe in (
        ("database", db.ping(request.app.state.engine)),
        ("redis", redis.ping(request.app.state.redis)),
    ):
        try:
            await probe
            checks[name] = "ok"
        except Exception as exc:  # any failure means "not ready", with the reason logged
            log.warning("readiness check failed", extra={"check": name, "error": repr(exc)})
            checks[name] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return keep_private(JSONResponse(body, status_code=200 if ready else 503))


routes = [Route("/healthz", healthz, name="healthz"), Route("/readyz", readyz, name="readyz")]
