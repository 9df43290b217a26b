"""Prometheus metrics at /metrics: requests and their latency, per app instance.

Each instance counts its own requests; Prometheus scrapes every instance and sums.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.web.caching import keep_private

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class RequestMetrics:
    """Counters keyed by (handler, method, status) and a latency histogram per handler."""

    requests: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    latency_buckets: Counter[tuple[str, float]] = field(default_factory=Counter)
    latency_sum: dict[str, float] = field(default_factory=dict)
    latency_count: Counter[str] = field(default_factory=Counter)

    def observe(self, handler: str, method: str, status: int, seconds: float) -> None:
        self.requests[(handler, method, status)] += 1
        self.latency_sum[handler] = self.latency_sum.get(handler, 0.0) + seconds
        self.latency_count[handler] += 1
        for bound in BUCKETS:
            if seconds <= bound:
                self.latency_buckets[(handler, bound)] += 1

    def render(self) -> str:
        lines = [
            "# HELP edgecart_requests_total HTTP requests answered, by handler and status.",
            "# TYPE edgecart_requests_total counter",
        ]
        for (handler, method, status), count in sorted(self.requests.items()):
            labels = f'handler="{handler}",method="{method}",status="{status}"'
            lines.append(f"edgecart_requests_total{{{labels}}} {count}")
        lines += [
            "# HELP edgecart_request_seconds Time to answer an HTTP request.",
            "# TYPE edgecart_request_seconds histogram",
        ]
        for handler in sorted(self.latency_count):
            for bound in BUCKETS:
                count = self.latency_buckets[(handler, bound)]
                lines.append(
                    f'edgecart_request_seconds_bucket{{handler="{handler}",le="{bound}"}} {count}'
                )
            total = self.latency_count[handler]
            lines.append(
                f'edgecart_request_seconds_bucket{{handler="{handler}",le="+Inf"}} {total}'
            )
            lines.append(f'edgecart_request_seconds_sum{{handler="{handler}"}} '
                         f"{self.latency_sum[handler]:.6f}")  # fmt: skip
            lines.append(f'edgecart_request_seconds_count{{handler="{handler}"}} {total}')
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # Label by handler name, never by raw path: paths are unbounded, handlers are not.
            endpoint = scope.get("endpoint")
            handler = getattr(endpoint, "__name__", "unmatched")
            self.metrics.observe(handler, scope["method"], status, time.perf_counter() - started)


async def metrics(request: Request) -> Response:
    body = request.app.state.metrics.render()
    return keep_private(PlainTextResponse(body, media_type="text/plain; version=0.0.4"))


routes = [Route("/metrics", metrics, name="metrics")]
