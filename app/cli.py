"""The `edgecart` command. Every failure a person can fix is one clear line, not a traceback."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import secrets
import sys
from collections.abc import Sequence

import psycopg
import redis.exceptions
import sqlalchemy.exc

from app import commands
from app.accounts import totp
from app.accounts.oauth_clients import ClientError
from app.accounts.oauth_scopes import GRANT_TYPES, SCOPES
from app.accounts.permissions import ROLES
from app.accounts.service import AccountError
from app.accounts.signing_keys import ALGORITHMS
from app.assets import AssetsError, build_static
from app.catalog.seed import SeedError
from app.devstack.errors import DevStackError
from app.settings import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgecart", description="Edgecart, the shop platform.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    dev = sub.add_parser("dev", help="everything up on this machine, seeded (Ctrl-C stops it)")
    dev.add_argument("--products", type=int, default=1000, help="demo products on first run")
    dev.add_argument(
        "--instances",
        type=int,
        default=1,
        choices=range(1, 9),
        metavar="N",
        help="app instances behind the edge, on PORT, PORT+1, … (default 1)",
    )
    serve = sub.add_parser("serve", help="run the web app with hypercorn")
    serve.add_argument("--workers", type=int, default=1)
    sub.add_parser("worker", help="run an arq worker for background jobs")
    sub.add_parser("migrate", help="apply database migrations")
    seed = sub.add_parser("seed", help="fill an empty database with a deterministic demo catalog")
    seed.add_argument("--products", type=int, default=1000, help="how many products (default 1000)")
    seed.add_argument("--seed", type=int, default=1, help="same seed, same shop (default 1)")
    staff = sub.add_parser("createstaff", help="create a staff account, or reset its password")
    staff.add_argument("email")
    staff.add_argument("--password", help="asked for when omitted (or generated without a TTY)")
    staff.add_argument("--role", default="owner", choices=ROLES, help="staff role (default owner)")
    staff.add_argument(
        "--totp", action="store_true", help="require a code from an authenticator app at sign-in"
    )
    client = sub.add_parser(
        "createclient", help="register an app that may use the API with OAuth 2.0 tokens"
    )
    client.add_argument("name", help="the app's name, shown to people on the consent page")
    client.add_argument("--grant", action="append", required=True, choices=GRANT_TYPES,
                        help="client_credentials (a partner's server) or authorization_code "
                        "(an app acting for a signed-in shopper); repeatable")  # fmt: skip
    client.add_argument("--scope", action="append", required=True, choices=list(SCOPES),
                        help="a scope the app may ask for; repeatable")  # fmt: skip
    client.add_argument("--redirect-uri", action="append", default=[], metavar="URI",
                        help="where authorization_code answers go; repeatable")  # fmt: skip
    client.add_argument(
        "--public", action="store_true", help="an app that cannot keep a secret (mobile): no secret"
    )
    rotate = sub.add_parser(
        "rotate-signing-key", help="sign access tokens with a new key (the old one keeps verifying)"
    )
    rotate.add_argument("--algorithm", choices=ALGORITHMS, help="default OAUTH_SIGNING_ALGORITHM")
    sub.add_parser("check", help="check configuration and connectivity")
    sub.add_parser("assets", help="build static files (vendor copy, hashed names, br/gz)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except (SettingsError, DevStackError, AccountError, SeedError, AssetsError, ClientError) as exc:
        return _fail(str(exc))
    except (sqlalchemy.exc.OperationalError, psycopg.OperationalError, OSError) as exc:
        return _fail(_connection_hint(exc))
    except redis.exceptions.ConnectionError as exc:
        reason = commands.one_line(exc)
        return _fail(f"cannot reach Redis (REDIS_URL): {reason}. Start it or fix REDIS_URL")
    except KeyboardInterrupt:
        return 130


def _fail(message: str) -> int:
    print(f"edgecart: {message}", file=sys.stderr)
    return 2


def _connection_hint(exc: Exception) -> str:
    reason = commands.one_line(exc)
    return f"cannot reach PostgreSQL (DATABASE_URL): {reason}. Start it or fix DATABASE_URL"


def _run(args: argparse.Namespace) -> int:
    if args.command == "dev":
        from app.devstack.dev import run_dev

        return run_dev(args.products, args.instances)
    settings = Settings.from_env()
    if args.command == "serve":
        bind = f"{settings.host}:{settings.port}"
        web = ["-m", "hypercorn", "app.asgi:app", "--bind", bind, "--workers", str(args.workers)]
        os.execv(sys.executable, [sys.executable, *web])  # noqa: S606  (becomes hypercorn)
    if args.command == "worker":
        worker = ["-m", "arq", "app.workers.settings.WorkerSettings"]
        os.execv(sys.executable, [sys.executable, *worker])  # noqa: S606  (becomes arq)
    if args.command == "migrate":
        commands.migrate(settings)
        print("Migrations applied.")
    elif args.command == "seed":
        if not 1 <= args.products <= 1_000_000:
            return _fail("--products must be between 1 and 1,000,000")
        report = asyncio.run(commands.seed(settings, args.products, args.seed, progress=True))
        print(f"Seeded {report.products} products in {report.seconds:.1f} s.")
    elif args.command == "createstaff":
        password = args.password or _ask_password()
        secret = totp.new_secret() if args.totp else None
        email = asyncio.run(
            commands.create_staff(settings, args.email, password, args.role, secret)
        )
        print(f"Staff account ready: {email} ({args.role})")
        if secret:
            print(f"Authenticator app: {totp.provisioning_uri(secret, email)}")
        if not args.password and not sys.stdin.isatty():
            print(f"Password: {password}")
    elif args.command == "createclient":
        client_id, secret = asyncio.run(
            commands.create_client(
                settings, args.name, args.grant, args.scope, args.redirect_uri, args.public
            )
        )
        print(f"Client ready: {args.name}")
        print(f"client_id: {client_id}")
        if secret is not None:
            print(f"client_secret: {secret}")
            print("Store the secret now: it is not kept and cannot be shown again.")
    elif args.command == "rotate-signing-key":
        algorithm = args.algorithm or settings.oauth_signing_algorithm
        kid = asyncio.run(commands.rotate_signing_key(settings, algorithm))
        print(f"New signing key {kid} ({algorithm}); the previous one verifies until its tokens "
              "expire.")  # fmt: skip
    elif args.command == "check":
        results = asyncio.run(commands.check(settings))
        for result in results:
            print(f"{'ok ' if result.ok else 'FAIL'} {result.name}: {result.detail}")
        return 0 if all(r.ok for r in results) else 1
    elif args.command == "assets":
        build_static(settings.static_dir)
        print(f"Static files built in {settings.static_dir}")
    return 0


def _ask_password() -> str:
    if not sys.stdin.isatty():
        return secrets.token_urlsafe(12)
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Again: "):
        raise AccountError("the two passwords differ")
    return password


if __name__ == "__main__":
    raise SystemExit(main())
