"""`edgecart dev`: PostgreSQL, Redis, the app, a worker and the edge on one machine, seeded."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from app.assets import build_static
from app.devstack.errors import DevStackError
from app.devstack.mailsink import LocalMailSink
from app.devstack.oidc import DEMO_LABEL, DEMO_PROVIDER, LocalOidcProvider
from app.devstack.paysim import WEBHOOK_PATH, LocalPaymentSimulator
from app.devstack.ports import require_free_port, wait_for_port
from app.devstack.postgres import LocalPostgres, cluster_directory
from app.devstack.processes import start_web, start_worker, stop_process
from app.devstack.redis_server import LocalRedis
from app.devstack.varnish import LocalVarnish, varnish_installed
from app.settings import Settings

DEV_STAFF_EMAIL = "staff@edgecart.test"
DEV_STAFF_PASSWORD = "edgecart-staff-demo"  # noqa: S105  (printed for the local demo shop only)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def run_dev(products: int, instances: int = 1) -> int:
    """Everything up; `instances` app processes on PORT, PORT+1, … behind the edge."""
    settings = Settings.from_env()
    env = dict(os.environ)
    env.setdefault("EDGECART_ENV", "development")
    # Canonical links and the OpenID callback name the port the shop really listens on.
    env.setdefault("SITE_URL", f"http://{settings.host}:{settings.port}")
    settings = Settings.from_env(env)
    stops: list[Callable[[], None]] = []
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        app_ports = [settings.port + n for n in range(instances)]
        for port in app_ports:
            require_free_port(port, "the app", "PORT")
        edge = varnish_installed()
        if edge:
            require_free_port(settings.edge_port, "the edge (Varnish)", "EDGE_PORT")
            # The app and the worker purge this edge after every catalog change.
            env.setdefault("EDGE_PURGE_URL", f"http://127.0.0.1:{settings.edge_port}")
        if "DATABASE_URL" not in os.environ:
            postgres = LocalPostgres(
                cluster_directory(settings.data_dir / "postgres"),
                int(os.environ.get("EDGECART_PG_PORT", "55432")),
            )
            postgres.start()
            stops.append(postgres.stop)
            if not postgres.database_exists("edgecart"):
                postgres.create_database("edgecart")
            env["DATABASE_URL"] = postgres.url("edgecart")
        if "REDIS_URL" not in os.environ:
            redis = LocalRedis(
                settings.data_dir / "redis", int(os.environ.get("EDGECART_REDIS_PORT", "56379"))
            )
            redis.start()
            stops.append(redis.stop)
            env["REDIS_URL"] = redis.url
        mail_dir = _start_mail_sink(settings, env, stops) if "SMTP_URL" not in os.environ else None
        if "OIDC_PROVIDER" not in os.environ:
            provider = LocalOidcProvider(
                settings.data_dir / "oidc-provider",
                int(os.environ.get("EDGECART_OIDC_PORT", "55080")),
                [f"{settings.site_url}/account/oidc/{DEMO_PROVIDER}/callback"],
            )
            provider.start()
            stops.append(provider.stop)
            env.update(provider.app_env())
        paysim_url = None
        if "STRIPE_API_BASE" not in os.environ:
            simulator = LocalPaymentSimulator(
                settings.data_dir / "paysim",
                int(os.environ.get("EDGECART_PAYSIM_PORT", "55111")),
                webhook_url=f"{settings.site_url}{WEBHOOK_PATH}",
            )
            simulator.start()
            stops.append(simulator.stop)
            env.update(simulator.shop_env())
            paysim_url = simulator.url
        settings = Settings.from_env(env)
        _prepare(settings, products)
        children: dict[str, subprocess.Popen[bytes]] = {}
        for port in app_ports:
            web = start_web(settings.host, port, env)
            stops.append(partial(stop_process, web))
            children[f"the app (hypercorn on port {port})"] = web
        for port in app_ports:
            wait_for_port(port, 30, "the app (hypercorn)")
        worker = start_worker(env)
        stops.append(lambda: stop_process(worker))
        children["the worker (arq)"] = worker
        if edge:
            varnish = LocalVarnish(settings.data_dir / "varnish", settings.edge_port, app_ports)
            varnish.start()
            stops.append(varnish.stop)
        _print_banner(settings, edge, mail_dir, app_ports, paysim_url)
        _wait_for_exit(children)
        return 0
    except (_Stop, KeyboardInterrupt):
        print("\nedgecart dev: stopping…", file=sys.stderr)
        return 0
    finally:
        for stop in reversed(stops):
            stop()


def _start_mail_sink(
    settings: Settings, env: dict[str, str], stops: list[Callable[[], None]]
) -> Path:
    """Mail sent by the app and the worker lands as .eml files in var/mail, nowhere else."""
    # Port 1025 is where the default SMTP_URL points, so a worker started alone finds it too.
    sink = LocalMailSink(
        settings.data_dir / "mail", int(os.environ.get("EDGECART_MAIL_PORT", "1025"))
    )
    sink.start()
    stops.append(sink.stop)
    env["SMTP_URL"] = sink.url
    return sink.directory


def _prepare(settings: Settings, products: int) -> None:
    from app.commands import create_staff, migrate, seed_if_empty

    print("edgecart dev: building static files…", file=sys.stderr)
    build_static(settings.static_dir)
    print("edgecart dev: migrating the database…", file=sys.stderr)
    migrate(settings)
    asyncio.run(seed_if_empty(settings, products))
    asyncio.run(create_staff(settings, DEV_STAFF_EMAIL, DEV_STAFF_PASSWORD))


def _print_banner(
    settings: Settings, edge: bool, mail_dir: Path | None, app_ports: list[int],
    paysim_url: str | None,
) -> None:  # fmt: skip
    origins = ", ".join(f"http://{settings.host}:{port}/" for port in app_ports)
    lines = [
        "",
        "Edgecart is up.",
        f"  shop (origin):  {origins}",
        f"  shop (edge):    http://{settings.host}:{settings.edge_port}/ (Varnish, cdn/default.vcl)"
        if edge
        else "  edge:           not started (Varnish is not installed)",
        f"  API docs:       http://{settings.host}:{settings.port}/api/v1/docs",
        f"  sent mail:      {mail_dir}/*.eml (one file per message)"
        if mail_dir
        else f"  sent mail:      to {_smtp_server(settings.smtp_url)} (SMTP_URL)",
        f"  staff login:    {DEV_STAFF_EMAIL} / {DEV_STAFF_PASSWORD}",
        _sign_in_line(settings),
        f"  card payments:  payment simulator at {paysim_url} (card 4242 4242 4242 4242 pays)"
        if paysim_url
        else f"  card payments:  Stripe at {settings.stripe_api_base} (STRIPE_API_BASE)",
        f"  data:           {settings.data_dir}",
        "Press Ctrl-C to stop everything.",
        "",
    ]
    print("\n".join(lines), flush=True)


def _smtp_server(url: str) -> str:
    """host:port of an SMTP URL, without the credentials it may carry."""
    return urlsplit(url).netloc.rpartition("@")[2]


def _sign_in_line(settings: Settings) -> str:
    if not settings.oidc_enabled:
        return "  OpenID sign-in: off"
    where = settings.oidc_issuer
    if settings.oidc_display_name == DEMO_LABEL:
        where += " (local; any e-mail address signs in)"
    return f'  OpenID sign-in: "Continue with {settings.oidc_display_name}" at {where}'


def _wait_for_exit(children: dict[str, subprocess.Popen[bytes]]) -> None:
    while True:
        for name, child in children.items():
            if child.poll() is not None:
                raise DevStackError(
                    f"{name} exited with code {child.returncode}; see its output above"
                )
        time.sleep(0.5)
