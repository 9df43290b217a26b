"""The `edgecart` command as a person runs it: one clear line when something is wrong."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.devstack.ports import free_port

EDGECART = str(Path(sys.executable).parent / "edgecart")


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EDGECART, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def closed_port_url() -> str:
    return f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("command", ["dev", "serve", "worker", "migrate", "seed", "createstaff",
                                     "createclient", "rotate-signing-key", "check",
                                     "assets"])  # fmt: skip
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])

    assert exit_info.value.code == 0
    assert f"usage: edgecart {command}" in capsys.readouterr().out


def test_an_unreachable_database_is_one_line_saying_what_to_do(closed_port_url: str) -> None:
    done = run("migrate", DATABASE_URL=closed_port_url)

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("edgecart: cannot reach PostgreSQL (DATABASE_URL)")
    assert "fix DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_reports_each_unreachable_server(closed_port_url: str) -> None:
    port = free_port()
    done = run("check", DATABASE_URL=closed_port_url, REDIS_URL=f"redis://127.0.0.1:{port}/0",
               SMTP_URL=f"smtp://mailer:hunter2@127.0.0.1:{port}")  # fmt: skip

    assert done.returncode == 1
    assert "FAIL database" in done.stdout
    assert "FAIL redis" in done.stdout
    assert f"FAIL mail: SMTP smtp://mailer:***@127.0.0.1:{port}" in done.stdout
    assert "hunter2" not in done.stdout


def test_production_with_the_default_secret_refuses_to_start() -> None:
    done = run("check", EDGECART_ENV="production", SECRET_KEY="dev-only-secret-key-change-me")

    assert done.returncode == 2
    assert (
        done.stderr == "edgecart: SECRET_KEY is the development default: set a long random value\n"
    )


def test_dev_refuses_a_port_in_use(busy_port: int) -> None:
    done = run("dev", PORT=str(busy_port))

    assert done.returncode == 2
    assert f"port {busy_port} for the app is in use" in done.stderr
    assert "set PORT to another port" in done.stderr


def test_seed_rejects_an_absurd_product_count() -> None:
    done = run("seed", "--products", "0")

    assert done.returncode == 2
    assert "--products must be between 1 and 1,000,000" in done.stderr


def test_createstaff_then_check_against_a_real_database(
    empty_database_url: str, redis_server: object
) -> None:
    done = run("createstaff", "Clerk@Example.com", "--password", "a-long-password",
               "--role", "clerk", DATABASE_URL=empty_database_url)  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout == "Staff account ready: clerk@example.com (clerk)\n"


def test_createstaff_with_totp_prints_the_authenticator_address(empty_database_url: str) -> None:
    done = run("createstaff", "owner@example.com", "--password", "a-long-password", "--totp",
               DATABASE_URL=empty_database_url)  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "otpauth://totp/Edgecart:owner%40example.com?secret=" in done.stdout


def test_createstaff_rejects_an_unknown_role(empty_database_url: str) -> None:
    done = run("createstaff", "x@example.com", "--password", "a-long-password", "--role", "god",
               DATABASE_URL=empty_database_url)  # fmt: skip

    assert done.returncode == 2
    assert "invalid choice: 'god'" in done.stderr


def test_createstaff_rejects_a_short_password(empty_database_url: str) -> None:
    done = run("createstaff", "clerk@example.com", "--password", "short",
               DATABASE_URL=empty_database_url)  # fmt: skip

    assert done.returncode == 2
    assert "at least 10 characters" in done.stderr


def test_createclient_prints_the_id_and_the_secret_once(empty_database_url: str) -> None:
    done = run("createclient", "Marketplace", "--grant", "client_credentials",
               "--scope", "catalog:read", "--scope", "orders:read",
               DATABASE_URL=empty_database_url)  # fmt: skip

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Client ready: Marketplace"
    assert lines[1].startswith("client_id: ")
    assert lines[2].startswith("client_secret: ")
    assert len(lines[2].removeprefix("client_secret: ")) >= 40


def test_createclient_for_a_public_app_prints_no_secret(empty_database_url: str) -> None:
    done = run("createclient", "Shop App", "--grant", "authorization_code", "--public",
               "--scope", "catalog:read", "--scope", "profile",
               "--redirect-uri", "com.example.shop:/oauth",
               DATABASE_URL=empty_database_url)  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "client_id: " in done.stdout
    assert "client_secret" not in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--grant", "authorization_code", "--scope", "catalog:read"],
                     "authorization_code needs at least one --redirect-uri", id="no redirect"),
        pytest.param(["--grant", "authorization_code", "--scope", "catalog:read",
                      "--redirect-uri", "http://app.example/cb"],
                     "redirect URI 'http://app.example/cb' must be https://", id="plain http"),
        pytest.param(["--grant", "client_credentials", "--scope", "catalog:read", "--public"],
                     "a --public client cannot use client_credentials", id="public partner"),
        pytest.param(["--grant", "client_credentials", "--scope", "profile"],
                     "scope profile needs --grant authorization_code", id="profile, no person"),
        pytest.param(["--grant", "password", "--scope", "catalog:read"],
                     "invalid choice: 'password'", id="unknown grant"),
        pytest.param(["--grant", "client_credentials", "--scope", "everything"],
                     "invalid choice: 'everything'", id="unknown scope"),
    ],
)  # fmt: skip
def test_createclient_refuses_bad_input_in_one_line(
    empty_database_url: str, args: list[str], message: str
) -> None:
    done = run("createclient", "Bad", *args, DATABASE_URL=empty_database_url)

    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_rotate_signing_key_makes_a_new_key_each_time(empty_database_url: str) -> None:
    first = run("rotate-signing-key", DATABASE_URL=empty_database_url)
    second = run("rotate-signing-key", DATABASE_URL=empty_database_url)

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.startswith("New signing key ")
    assert "(ES256)" in first.stdout
    assert first.stdout.split()[3] != second.stdout.split()[3]
