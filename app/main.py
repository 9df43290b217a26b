"""create_app(): the route list, middleware, exception handlers and lifespan."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from servestatic import ServeStaticASGI
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp

from app import db, redis
from app.accounts import address_routes as account_address_routes
from app.accounts import api as account_api
from app.accounts import oauth_metadata, oauth_routes
from app.accounts import oidc_routes as account_oidc_routes
from app.accounts import reset_routes as account_reset_routes
from app.accounts import routes as account_routes
from app.accounts.oidc import OidcClient, ProviderConfig
from app.accounts.signing_keys import KeyCache
from app.admin import routes as admin_routes
from app.admin import transfers as admin_transfers
from app.cart import api as cart_api
from app.cart import routes as cart_routes
from app.catalog import api as catalog_api
from app.catalog import openapi as api_document
from app.catalog import routes as catalog_routes
from app.catalog import seo as catalog_seo
from app.checkout import routes as checkout_routes
from app.inventory import routes as inventory_routes
from app.logs import configure_logging
from app.orders import api as order_api
from app.orders import routes as order_routes
from app.payments import admin_routes as payment_admin_routes
from app.payments import routes as payment_routes
from app.payments.gateways import create_guarded_gateway
from app.search import api as search_api
from app.search import routes as search_routes
from app.settings import Settings
from app.web import errors, fragments, health
from app.web import metrics as request_metrics
from app.web import sessions as web_sessions
from app.web.csrf import CsrfMiddleware
from app.web.request_id import RequestIdMiddleware
from app.web.security import SecurityHeadersMiddleware
from app.web.templating import create_templates


def create_starlette(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = db.create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = db.create_sessionmaker(engine)
        app.state.redis = redis.create_redis(settings)
        app.state.payment_gateway = create_guarded_gateway(settings, app.state.redis)
        try:
            yield
        finally:
            await app.state.payment_gateway.aclose()
            await app.state.redis.aclose()
            await engine.dispose()

    collected = request_metrics.RequestMetrics()
    app = Starlette(
        routes=[
            *catalog_routes.routes,
            *search_routes.routes,
            *catalog_seo.routes,
            *catalog_api.routes,
            *search_api.routes,
            *api_document.routes,
            *cart_routes.routes,
            *inventory_routes.routes,
            *checkout_routes.routes,
            *order_routes.routes,
            *payment_routes.routes,
            *payment_admin_routes.routes,
            *account_routes.routes,
            *account_address_routes.routes,
            *account_reset_routes.routes,
            *account_oidc_routes.routes,
            *account_api.routes,
            *cart_api.routes,
            *order_api.routes,
            *oauth_routes.routes,
            *oauth_metadata.routes,
            *admin_routes.routes,
            *admin_transfers.routes,
            *fragments.routes,
            *health.routes,
            *request_metrics.routes,
        ],
        middleware=[
            Middleware(SecurityHeadersMiddleware, settings=settings),
            Middleware(RequestIdMiddleware),
            Middleware(request_metrics.MetricsMiddleware, metrics=collected),
            Middleware(GZipMiddleware, minimum_size=800, compresslevel=6),
            Middleware(CsrfMiddleware, settings=settings),
        ],
        exception_handlers={
            HTTPException: errors.http_error,
            web_sessions.SignInRequired: web_sessions.sign_in_first,
            Exception: errors.server_error,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = collected
    app.state.templates = create_templates(settings)
    # Discovery and signing keys are cached in this client, for the life of the process.
    app.state.oidc = (
        OidcClient(ProviderConfig.from_settings(settings)) if settings.oidc_enabled else None
    )
    # Signing keys cached in this process (app/accounts/signing_keys.py).
    app.state.signing_keys = KeyCache(
        str(settings.secret_key),
        settings.oauth_signing_algorithm,
        settings.oauth_access_token_seconds,
    )
    return app


_HASHED_STATIC = re.compile(r"\.[0-9a-f]{12}\.\w+$")


def _is_immutable(path: str, url: str) -> bool:
    """Built static files carry a content hash in their names, and media files one in their stem."""
    return url.startswith("/media/") or bool(_HASHED_STATIC.search(url))


class _StaticFiles(ServeStaticASGI):  # type: ignore[misc]  # servestatic has no type hints
    FOREVER = 31_536_000  # content-hashed names: a year, as the edge contract says


def serve_static(app: ASGIApp, settings: Settings) -> ASGIApp:
    """Put the static-file server for /static and /media in front of `app`, behind the
    security headers (static files get nosniff too)."""
    static = _StaticFiles(
        app,
        root=settings.static_dir if settings.static_dir.exists() else None,
        prefix="static/",
        max_age=3600,
        immutable_file_test=_is_immutable,
    )
    if settings.media_dir.exists():
        # Media names carry a content hash (see app/catalog/images.py), so they never change.
        static.add_files(settings.media_dir, prefix="media/")
    return SecurityHeadersMiddleware(static, settings)


def create_app(settings: Settings | None = None) -> ASGIApp:
    """The whole ASGI app: Starlette behind a static-file server for /static and /media."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_json)
    app: ASGIApp = serve_static(create_starlette(settings), settings)
    return app
