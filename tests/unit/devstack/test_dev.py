"""`edgecart dev` as a newcomer runs it: a seeded shop at the origin and the edge, then Ctrl-C."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.devstack.ports import free_port, port_is_free, wait_for_port

EDGECART = str(Path(sys.executable).parent / "edgecart")


@pytest.fixture
def data_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="edgecart-dev-test-"))
    directory.chmod(0o755)  # the postgres user must be able to enter it
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_dev_serves_a_seeded_shop_at_origin_and_edge_and_stops_cleanly(data_dir: Path) -> None:
    names = ("PORT", "EDGE_PORT", "EDGECART_PG_PORT", "EDGECART_REDIS_PORT", "EDGECART_MAIL_PORT")
    names = ("PORT", "EDGE_PORT", "EDGECART_PG_PORT", "EDGECART_REDIS_PORT", "EDGECART_OIDC_PORT")
    ports = {name: free_port() for name in names}
    env = {
        **os.environ,
        **{k: str(v) for k, v in ports.items()},
        "EDGECART_DATA_DIR": str(data_dir),
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.pop("SMTP_URL", None)
    env.pop("SITE_URL", None)
    env.pop("OIDC_PROVIDER", None)
    dev = subprocess.Popen(
        [EDGECART, "dev", "--products", "30"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(ports["EDGE_PORT"], 120, "the edge started by edgecart dev")
        origin = f"http://127.0.0.1:{ports['PORT']}"
        edge = f"http://127.0.0.1:{ports['EDGE_PORT']}"

        home = httpx.get(origin + "/", timeout=10)
        assert home.status_code == 200
        assert home.text.count('data-testid="product-card"') >= 8
        product_path = re.search(r'href="(/products/[^"]+)"', home.text)
        assert product_path
        product = httpx.get(origin + product_path.group(1), timeout=10)
        for test_id in ("product-title", "product-price", "stock-level"):
            assert f'data-testid="{test_id}"' in product.text

        login = httpx.get(origin + "/account/login", timeout=10)
        assert "Continue with Demo ID" in login.text

        httpx.get(edge + product_path.group(1), timeout=10)
        again = httpx.get(edge + product_path.group(1), timeout=10)
        assert again.status_code == 200
        assert again.headers["x-cache"] == "HIT"
    finally:
        dev.send_signal(signal.SIGINT)
        output, _ = dev.communicate(timeout=60)

    assert dev.returncode == 0, output
    assert "staff login:" in output
    assert f"sent mail:      {data_dir / 'mail'}/*.eml" in output
    assert '"Continue with Demo ID"' in output
    assert f"http://127.0.0.1:{ports['PORT']}/" in output
    for name, port in ports.items():
        assert port_is_free(port), f"{name} {port} still in use after Ctrl-C"
