"""What the CLI commands do, free of argument parsing so `edgecart dev` and tests can call them."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app import db, redis
from app.accounts import oauth_clients, signing_keys
from app.accounts import service as accounts
from app.catalog.seed import SeedReport, seed_catalog
from app.migrate import upgrade_to_head
from app.notifications import smtp
from app.search import service as search
from app.settings import Settings
from app.workers.heartbeat import HEARTBEAT_KEY


def one_line(exc: BaseException) -> str:
    """The first line of an error, without the library's links and hints."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def migrate(settings: Settings) -> None:
    upgrade_to_head(settings.database_url)


async def seed(settings: Settings, products: int, seed_value: int, progress: bool) -> SeedReport:
    engine = db.create_engine(settings)
    try:
        report = await seed_catalog(
            engine,
            products=products,
            media_dir=settings.media_dir,
            currency=settings.currency,
            seed=seed_value,
            progress=progress,
        )
        if progress:
            print("Building the search index…", file=sys.stderr)
        await build_search_index(engine)
        return report
    finally:
        await engine.dispose()


async def build_search_index(engine: AsyncEngine) -> None:
    """The whole search index from the catalog, in one transaction (after a seed or import)."""
    async with db.transaction(db.create_sessionmaker(engine)) as session:
        await search.reindex_all(session)
        await search.rebuild_terms(session)


async def seed_if_empty(settings: Settings, products: int) -> None:
    """Seed an empty shop; index a catalog that predates the search index (an older dev DB)."""
    engine = db.create_engine(settings)
    try:
        async with engine.connect() as connection:
            count = (await connection.execute(text("SELECT count(*) FROM product"))).scalar_one()
            indexed = (
                await connection.execute(text("SELECT count(*) FROM search_document"))
            ).scalar_one()
        if count and indexed < count:
            print(f"Indexing {count} products for search…", file=sys.stderr)
            await build_search_index(engine)
    finally:
        await engine.dispose()
    if count == 0:
        print(f"Seeding a demo shop with {products} products…", file=sys.stderr)
        report = await seed(settings, products, 1, progress=True)
        print(f"Seeded {report.products} products in {report.seconds:.1f} s.", file=sys.stderr)


async def create_staff(
    settings: Settings,
    email: str,
    password: str,
    role: str = "owner",
    totp_secret: str | None = None,
) -> str:
    engine = db.create_engine(settings)
    try:
        async with db.transaction(db.create_sessionmaker(engine)) as session:
            account = await accounts.create_or_update_staff(session, email, password, role)
            account.totp_secret = totp_secret
            return account.email
    finally:
        await engine.dispose()


async def create_client(
    settings: Settings,
    name: str,
    grant_types: list[str],
    scopes: list[str],
    redirect_uris: list[str],
    public: bool,
) -> tuple[str, str | None]:
    """Register an OAuth client: (client_id, secret or None for a public client)."""
    engine = db.create_engine(settings)
    try:
        async with db.transaction(db.create_sessionmaker(engine)) as session:
            client, secret = await oauth_clients.register_client(
                session, name, grant_types, scopes, redirect_uris, public=public
            )
            return client.client_id, secret
    finally:
        await engine.dispose()


async def rotate_signing_key(settings: Settings, algorithm: str) -> str:
    """A new signing key for access tokens; the old one verifies until its tokens expire."""
    engine = db.create_engine(settings)
    try:
        async with db.transaction(db.create_sessionmaker(engine)) as session:
            key = await signing_keys.create_signing_key(
                session, str(settings.secret_key), algorithm
            )
            return key.kid
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


async def check(settings: Settings) -> list[CheckResult]:
    results = [CheckResult("settings", True, f"{settings.environment} mode")]
    engine = db.create_engine(settings)
    try:
        await db.ping(engine)
        results.append(CheckResult("database", True, safe_url(settings.database_url)))
    except Exception as exc:  # report any failure as one line
        results.append(
            CheckResult("database", False, f"{safe_url(settings.database_url)}: {one_line(exc)}")
        )
    finally:
        await engine.dispose()
    client = redis.create_redis(settings)
    try:
        await redis.ping(client)
        results.append(CheckResult("redis", True, safe_url(settings.redis_url)))
        beat = await client.get(HEARTBEAT_KEY)
        if beat is None:
            results.append(
                CheckResult("worker", False, "no heartbeat: is `edgecart worker` running?")
            )
        else:
            results.append(
                CheckResult("worker", True, f"last seen {time.time() - float(beat):.0f} s ago")
            )
    except Exception as exc:  # report any failure as one line
        results.append(
            CheckResult("redis", False, f"{safe_url(settings.redis_url)}: {one_line(exc)}")
        )
    finally:
        await client.aclose()
    try:
        await smtp.ping(settings.smtp_url)
        results.append(CheckResult("mail", True, f"SMTP {safe_url(settings.smtp_url)}"))
    except Exception as exc:  # report any failure as one line
        results.append(
            CheckResult("mail", False, f"SMTP {safe_url(settings.smtp_url)}: {one_line(exc)}")
        )
    manifest = settings.static_dir / "staticfiles.json"
    results.append(
        CheckResult(
            "static files",
            manifest.exists(),
            str(manifest) if manifest.exists() else f"{manifest} is missing: run `edgecart assets`",
        )
    )
    return results
