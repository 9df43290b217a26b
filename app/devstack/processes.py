"""Starting and stopping the app's own child processes (hypercorn, arq)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def python_tool(name: str) -> str:
    """A console script installed beside this Python (the virtualenv's bin/)."""
    return str(Path(sys.executable).parent / name)


def start_web(
    host: str, port: int, env: Mapping[str, str], workers: int = 1
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            python_tool("hypercorn"),
            "app.asgi:app",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--keep-alive",
            "75",
            "--graceful-timeout",
            "5",
        ],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def start_worker(env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [python_tool("arq"), "app.workers.settings.WorkerSettings"],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 8) -> None:
    """TERM, then INT (hypercorn sometimes ignores TERM), then KILL."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        if process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout / 2)
            return
        except subprocess.TimeoutExpired:
            continue
    process.kill()
    process.wait()
