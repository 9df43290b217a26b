from __future__ import annotations

import socket

import pytest

from app.devstack.binaries import find_binary
from app.devstack.errors import DevStackError
from app.devstack.ports import port_is_free, require_free_port


def test_a_missing_binary_names_the_package_to_install() -> None:
    with pytest.raises(DevStackError, match=r"`no-such-server` is not installed: .*no-such-pkg"):
        find_binary("no-such-server", "no-such-pkg")


def test_a_busy_port_names_the_variable_to_change() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]

        assert not port_is_free(port)
        with pytest.raises(DevStackError, match=f"port {port} for Redis is in use.*EDGECART_REDIS"):
            require_free_port(port, "Redis", "EDGECART_REDIS_PORT")
