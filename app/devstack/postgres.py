"""A private PostgreSQL cluster in a directory of its own."""

from __future__ import annotations

import hashlib
import os
import pwd
import subprocess
from dataclasses import dataclass
from pathlib import Path

from app.devstack.binaries import postgres_bindir
from app.devstack.errors import DevStackError
from app.devstack.ports import require_free_port

POSTGRES_USER = "postgres"


def _as_postgres_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root, so root runs it as the `postgres` system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", POSTGRES_USER, "--", *command]
    return command


def _postgres_can_enter(directory: Path) -> bool:
    if os.geteuid() != 0:
        return True
    probe = subprocess.run(
        ["runuser", "-u", POSTGRES_USER, "--", "test", "-x", str(directory)], check=False
    )
    return probe.returncode == 0


def cluster_directory(preferred: Path) -> Path:
    """`preferred` when the postgres user can reach it, else a directory under /var/lib."""
    preferred.parent.mkdir(parents=True, exist_ok=True)
    if _postgres_can_enter(preferred.parent):
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:12]
    return Path("/var/lib/edgecart") / digest / preferred.name


@dataclass
class LocalPostgres:
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{POSTGRES_USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> subprocess.CompletedProcess[str]:
        bindir = postgres_bindir()
        full = _as_postgres_user([os.path.join(bindir, command[0]), *command[1:]])
        return subprocess.run(full, capture_output=True, text=True, check=False)

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            uid = pwd.getpwnam(POSTGRES_USER).pw_uid
            os.chown(self.directory, uid, -1)
        if not (self.data / "PG_VERSION").exists():
            done = self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                POSTGRES_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            )
            if done.returncode != 0:
                raise DevStackError(f"initdb failed in {self.data}: {done.stderr.strip()}")
        if self._run("pg_ctl", "-D", str(self.data), "status").returncode == 0:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        require_free_port(self.port, "PostgreSQL", "EDGECART_PG_PORT")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        done = self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "postgres.log"),
            "-w",
            "-t",
            "30",
            "-o",
            options,
            "start",
        )
        if done.returncode != 0:
            raise DevStackError(
                f"PostgreSQL failed to start on port {self.port}; "
                f"see {self.directory / 'postgres.log'}"
            )

    def create_database(self, name: str, template: str | None = None) -> None:
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        self.psql(sql)

    def database_exists(self, name: str) -> bool:
        out = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
        return out.strip() == "1"

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            POSTGRES_USER,
            "-d",
            database,
            "-tAX",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        )
        if done.returncode != 0:
            raise DevStackError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
