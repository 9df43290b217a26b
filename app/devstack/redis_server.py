"""A private Redis server in a directory of its own."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from app.devstack.binaries import find_binary
from app.devstack.errors import DevStackError
from app.devstack.ports import require_free_port, wait_for_port


@dataclass
class LocalRedis:
    directory: Path
    port: int
    databases: int = 16  # Redis's own default; the test harness asks for more
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = find_binary("redis-server", "redis-server")
        require_free_port(self.port, "Redis", "EDGECART_REDIS_PORT")
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / "redis.log"
        self.process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(log),
                "--daemonize",
                "no",
                "--databases",
                str(self.databases),
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for_port(self.port, 10, "Redis")
        except DevStackError:
            self.stop()
            raise DevStackError(f"Redis failed to start on port {self.port}; see {log}") from None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
