"""Loopback port helpers."""

from __future__ import annotations

import socket
import time

from app.devstack.errors import DevStackError


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def require_free_port(port: int, what: str, variable: str) -> None:
    if not port_is_free(port):
        raise DevStackError(
            f"port {port} for {what} is in use: stop the program using it "
            f"(`ss -ltnp 'sport = :{port}'`) or set {variable} to another port"
        )


def wait_for_port(port: int, timeout: float, what: str, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise DevStackError(f"{what} did not start listening on {host}:{port} within {timeout:.0f} s")
