"""The test harness: real PostgreSQL, Redis, an SMTP sink, Varnish and hypercorn on free
loopback ports, and arq worker processes: one beside each live server, and one for each test
that asks for `worker`.

Session scope starts the servers once in private temporary directories and builds two template
databases (migrated-and-empty, and seeded). Each test gets its own clone and its own Redis
database, so tests never see each other's writes. Everything is stopped when the session ends.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as sync_redis
from arq import create_pool
from arq.connections import RedisSettings
from starlette.datastructures import Secret

from app.assets import build_static
from app.catalog.seed import seed_catalog
from app.commands import build_search_index
from app.db import create_engine
from app.devstack.mailsink import LocalMailSink
from app.devstack.oidc import DEMO_PROVIDER, LocalOidcProvider
from app.devstack.paysim import WEBHOOK_PATH, LocalPaymentSimulator
from app.devstack.ports import free_port, wait_for_port
from app.devstack.postgres import LocalPostgres
from app.devstack.processes import start_web, start_worker, stop_process
from app.devstack.redis_server import LocalRedis
from app.devstack.varnish import LocalVarnish
from app.main import create_starlette, serve_static
from app.migrate import upgrade_to_head
from app.settings import Settings
from app.workers.context import close_context, open_context
from app.workers.heartbeat import HEARTBEAT_KEY

SEEDED_PRODUCTS = 60
EMPTY_TEMPLATE = "tpl_empty"
SEEDED_TEMPLATE = "tpl_seeded"
# Tests take turns at Redis databases 1-15, each emptied before use. arq job ids restart with
# every cloned database ("outbox:1"), so a test must not find the jobs of the one before. The
# live servers of the browser tests hold 16-31, one each for as long as they run: each has its
# own arq worker, which must neither take another shop's jobs nor count its heartbeat.
_TEST_REDIS_DATABASES = itertools.cycle(range(1, 16))
REDIS_DATABASES = 32
_FREE_LIVE_REDIS_DATABASES = list(range(16, REDIS_DATABASES))
IN_PROCESS_SHOP = "http://shop.test"  # the `client` fixture's base URL


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="edgecart-tests-"))
    directory.chmod(0o755)  # the postgres user must be able to enter it
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(workdir: Path) -> Iterator[LocalPostgres]:
    server = LocalPostgres(workdir / "postgres", free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(workdir: Path) -> Iterator[LocalRedis]:
    server = LocalRedis(workdir / "redis", free_port(), databases=REDIS_DATABASES)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mail_sink(workdir: Path) -> Iterator[LocalMailSink]:
    """The SMTP server that keeps every message; `mail_sink.wait_for(lambda mail: ...)`.

    It is shared by the whole session: find a test's mail by its own recipient or subject.
    """
    sink = LocalMailSink(workdir / "mail", free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def payment_simulator(workdir: Path) -> Iterator[LocalPaymentSimulator]:
    """The local Stripe stand-in (app/paysim) in its own process. Each test and each live shop
    gets an account of its own on it (its own keys, events and faults)."""
    simulator = LocalPaymentSimulator(workdir / "paysim", free_port())
    simulator.start()
    yield simulator
    simulator.stop()


def payment_account(
    simulator: LocalPaymentSimulator, webhook_url: str | None = None
) -> dict[str, str]:
    """A fresh simulator account; the STRIPE_* environment that points a shop at it. Without
    a webhook URL the simulator keeps the events for the test to read (`/_sim/events`)."""
    api_key, secret = f"sk_test_{uuid.uuid4().hex}", f"whsec_{uuid.uuid4().hex}"
    simulator.add_account(api_key, secret, webhook_url)
    return simulator.shop_env(api_key, secret)


@pytest.fixture
def redis_url(redis_server: LocalRedis) -> str:
    """An empty Redis database for this test."""
    url = f"redis://127.0.0.1:{redis_server.port}/{next(_TEST_REDIS_DATABASES)}"
    client = sync_redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def static_dir(workdir: Path) -> Path:
    destination = workdir / "static"
    build_static(destination)
    return destination


@pytest.fixture(scope="session")
def media_dir(workdir: Path) -> Path:
    return workdir / "media"


@pytest.fixture(scope="session")
def templates_ready(postgres: LocalPostgres, media_dir: Path) -> None:
    postgres.create_database(EMPTY_TEMPLATE)
    upgrade_to_head(postgres.url(EMPTY_TEMPLATE))
    postgres.create_database(SEEDED_TEMPLATE, template=EMPTY_TEMPLATE)

    async def seed() -> None:
        settings = Settings(database_url=postgres.url(SEEDED_TEMPLATE), db_pool_size=2)
        engine = create_engine(settings)
        try:
            await seed_catalog(engine, products=SEEDED_PRODUCTS, media_dir=media_dir)
            await build_search_index(engine)
        finally:
            await engine.dispose()

    asyncio.run(seed())


def _clone(postgres: LocalPostgres, template: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name, template=template)
    yield postgres.url(name)
    postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_database_url(postgres: LocalPostgres, templates_ready: None) -> Iterator[str]:
    """A freshly migrated database with no rows, for this test only."""
    yield from _clone(postgres, EMPTY_TEMPLATE)


@pytest.fixture
def database_url(postgres: LocalPostgres, templates_ready: None) -> Iterator[str]:
    """A migrated database holding the seeded demo catalog, for this test only."""
    yield from _clone(postgres, SEEDED_TEMPLATE)


@pytest.fixture
def settings(
    database_url: str, redis_url: str, mail_sink: LocalMailSink, static_dir: Path, media_dir: Path,
    payment_simulator: LocalPaymentSimulator,
) -> Settings:  # fmt: skip
    stripe = payment_account(payment_simulator)
    return Settings(
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        smtp_url=mail_sink.url,
        static_dir=static_dir,
        media_dir=media_dir,
        db_pool_size=2,
        log_json=False,
        stripe_api_base=stripe["STRIPE_API_BASE"],
        stripe_secret_key=Secret(stripe["STRIPE_SECRET_KEY"]),
        stripe_webhook_secret=Secret(stripe["STRIPE_WEBHOOK_SECRET"]),
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process read these settings."""
    return {
        **os.environ,
        "EDGECART_ENV": settings.environment,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "SMTP_URL": settings.smtp_url,
        "MAIL_FROM": settings.mail_from,
        "SITE_URL": settings.site_url,
        "STATIC_DIR": str(settings.static_dir),
        "MEDIA_DIR": str(settings.media_dir),
        "LOG_JSON": "false",
        "STRIPE_API_BASE": settings.stripe_api_base,
        "STRIPE_SECRET_KEY": str(settings.stripe_secret_key),
        "STRIPE_WEBHOOK_SECRET": str(settings.stripe_webhook_secret),
    }


@pytest.fixture
def worker(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """A real arq worker process on this test's database and Redis, mailing to the sink.

    It relays the outbox every second, so a test commits its change and waits for the effect.
    Ready once its first heartbeat is in Redis (written by a cron job run at startup).
    """
    process = start_worker(settings_env(settings))
    try:
        _wait_for_heartbeat(settings.redis_url, process)
        yield process
    finally:
        stop_process(process)


@pytest.fixture
async def job_context(settings: Settings) -> AsyncIterator[dict[str, Any]]:
    """The ctx arq hands a job, built in this process: call job functions with it directly."""
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    ctx: dict[str, Any] = {"redis": pool, "job_try": 1}
    await open_context(ctx, settings)
    try:
        yield ctx
    finally:
        await close_context(ctx)
        await pool.aclose()


def _wait_for_heartbeat(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    client = sync_redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout
    try:
        while client.get(HEARTBEAT_KEY) is None:
            if process.poll() is not None:
                raise RuntimeError(f"the arq worker exited with code {process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the arq worker was not ready within {timeout:.0f} s")
            time.sleep(0.05)
    finally:
        client.close()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the whole ASGI app in-process, lifespan included."""
    async with _client_for(settings) as http:
        yield http


@asynccontextmanager
async def _client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    starlette = create_starlette(settings)
    app = serve_static(starlette, settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        starlette.router.lifespan_context(starlette),
        # Browsers name the page a form came from (the CSRF check reads it): so does this client.
        httpx.AsyncClient(
            transport=transport, base_url="http://shop.test", headers={"Origin": "http://shop.test"}
        ) as http,
    ):
        yield http


@pytest.fixture
def broken_settings(settings: Settings) -> Settings:
    """Settings whose database and Redis cannot be reached (a closed port)."""
    port = free_port()
    return replace(
        settings,
        database_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/nowhere",
        redis_url=f"redis://127.0.0.1:{port}/0",
    )


# --- OpenID Connect: the local provider ------------------------------------------------------


@pytest.fixture(scope="session")
def oidc_shop_port() -> int:
    """The port of the live shop that signs in with the local provider (its callback must be
    registered at the provider before either starts)."""
    return free_port()


@pytest.fixture(scope="session")
def oidc_provider(workdir: Path, oidc_shop_port: int) -> Iterator[LocalOidcProvider]:
    """The local OpenID provider (npm oidc-provider), one client, callbacks of both the
    in-process app and the live OIDC shop."""
    callback = f"/account/oidc/{DEMO_PROVIDER}/callback"
    provider = LocalOidcProvider(
        workdir / "oidc-provider",
        free_port(),
        [f"{IN_PROCESS_SHOP}{callback}", f"http://127.0.0.1:{oidc_shop_port}{callback}"],
    )
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def oidc_settings(settings: Settings, oidc_provider: LocalOidcProvider) -> Settings:
    """`settings` with "Continue with Demo ID" pointing at the local provider."""
    return Settings.from_env(
        {
            "EDGECART_ENV": "test",
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url,
            "STATIC_DIR": str(settings.static_dir),
            "MEDIA_DIR": str(settings.media_dir),
            "DB_POOL_SIZE": "2",
            "LOG_JSON": "false",
            "SITE_URL": IN_PROCESS_SHOP,
            **oidc_provider.app_env(),
        }
    )


@pytest.fixture
async def oidc_client(oidc_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """`client`, on an app that offers "Continue with Demo ID"."""
    async with _client_for(oidc_settings) as http:
        yield http


# --- live servers for the browser tests -------------------------------------------------------


# The database behind each running live server, by its base URL: browser tests that change
# stock or prices "behind the shop's back" (a sale elsewhere, a restock) write there.
LIVE_DATABASES: dict[str, str] = {}
# The Redis database of each running live server, by its base URL (breaker state, sessions).
LIVE_REDIS: dict[str, str] = {}


def serve_seeded_shop(
    postgres: LocalPostgres,
    redis_server: LocalRedis,
    static_dir: Path,
    media_dir: Path,
    *,
    mail_sink: LocalMailSink,
    port: int | None = None,
    **extra_env: str,
) -> Iterator[str]:
    """hypercorn on a free port (or `port`) and an arq worker, serving their own clone of the
    seeded database, as in production.

    The shop has a Redis database of its own (16-31), mails to the session's `mail_sink`, and
    its `SITE_URL` is its own address (unless `extra_env` says otherwise), so the links in its
    mail lead back to it. Ready once hypercorn listens and the worker's heartbeat is in Redis.
    """
    name = f"live_{uuid.uuid4().hex[:8]}"
    postgres.create_database(name, template=SEEDED_TEMPLATE)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    redis_url = _take_live_redis(redis_server)
    env = {
        **os.environ,
        "EDGECART_ENV": "test",
        "DATABASE_URL": postgres.url(name),
        "REDIS_URL": redis_url,
        "SMTP_URL": mail_sink.url,
        "SITE_URL": url,
        "STATIC_DIR": str(static_dir),
        "MEDIA_DIR": str(media_dir),
        **extra_env,
    }
    processes: list[subprocess.Popen[bytes]] = []
    LIVE_DATABASES[url] = postgres.url(name)
    LIVE_REDIS[url] = redis_url
    try:
        processes.append(start_web("127.0.0.1", port, env))
        processes.append(start_worker(env))
        wait_for_port(port, 30, "hypercorn")
        _wait_for_heartbeat(redis_url, processes[1])
        yield url
    finally:
        for process in reversed(processes):
            stop_process(process)
        del LIVE_DATABASES[url]
        del LIVE_REDIS[url]
        _FREE_LIVE_REDIS_DATABASES.append(int(redis_url.rsplit("/", 1)[1]))


def _take_live_redis(redis_server: LocalRedis) -> str:
    """An emptied Redis database of its own for a live server."""
    if not _FREE_LIVE_REDIS_DATABASES:
        raise RuntimeError(
            f"more than {REDIS_DATABASES - 16} live servers at once: raise REDIS_DATABASES"
        )
    url = f"redis://127.0.0.1:{redis_server.port}/{_FREE_LIVE_REDIS_DATABASES.pop(0)}"
    client = sync_redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def live_server(
    postgres: LocalPostgres,
    templates_ready: None,
    redis_server: LocalRedis,
    static_dir: Path,
    media_dir: Path,
    mail_sink: LocalMailSink,
    payment_simulator: LocalPaymentSimulator,
) -> Iterator[str]:
    """The seeded shop served by hypercorn, with its worker, for the browser tests; card
    payments go to the simulator, which sends its webhooks back to this shop."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stripe = payment_account(payment_simulator, f"{url}{WEBHOOK_PATH}")
    yield from serve_seeded_shop(
        postgres, redis_server, static_dir, media_dir, mail_sink=mail_sink, port=port, **stripe
    )


@pytest.fixture(scope="session")
def edge_server(workdir: Path, live_server: str) -> Iterator[str]:
    """Varnish with xkey in front of the live server, with cdn/default.vcl. (The edge tests
    with two instances, a worker and purges have their own in tests/e2e/test_edge.py.)"""
    varnish = LocalVarnish(workdir / "varnish", free_port(), [int(live_server.rsplit(":", 1)[1])])
    varnish.start()
    yield varnish.url
    varnish.stop()
