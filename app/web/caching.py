"""Cache-Control and surrogate keys, per the edge contract in DESIGN.md."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.responses import Response

from app.settings import Settings


def cache_publicly(response: Response, settings: Settings, keys: Iterable[str]) -> Response:
    """Same for every visitor: short in browsers, long at the edge, purged by surrogate key."""
    response.headers["Cache-Control"] = (
        f"public, max-age={settings.browser_max_age}, s-maxage={settings.edge_max_age}, "
        "stale-while-revalidate=60, stale-if-error=86400"
    )
    unique = list(dict.fromkeys(keys))
    # Varnish xkey and Fastly read Surrogate-Key (space separated); Cloudflare reads Cache-Tag.
    response.headers["Surrogate-Key"] = " ".join(unique)
    response.headers["Cache-Tag"] = ",".join(unique)
    return response


def keep_private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response
