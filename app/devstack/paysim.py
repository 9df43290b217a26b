"""The local payment simulator (app/paysim) as a process of its own, for `edgecart dev` and the
tests: hypercorn on a loopback port, logging into a directory of its own."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.devstack.errors import DevStackError
from app.devstack.ports import require_free_port
from app.devstack.processes import python_tool, stop_process
from app.settings import DEV_STRIPE_SECRET_KEY, DEV_STRIPE_WEBHOOK_SECRET, PROJECT_ROOT

WEBHOOK_PATH = "/payments/webhooks/stripe"


@dataclass
class LocalPaymentSimulator:
    directory: Path
    port: int
    webhook_url: str | None = None
    api_key: str = DEV_STRIPE_SECRET_KEY
    webhook_secret: str = DEV_STRIPE_WEBHOOK_SECRET
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def shop_env(
        self, api_key: str | None = None, webhook_secret: str | None = None
    ) -> dict[str, str]:
        """The environment that points the shop at this simulator (its default account, or
        another one added with `add_account`)."""
        return {
            "STRIPE_API_BASE": self.url,
            "STRIPE_SECRET_KEY": api_key or self.api_key,
            "STRIPE_WEBHOOK_SECRET": webhook_secret or self.webhook_secret,
        }

    def add_account(self, api_key: str, webhook_secret: str, webhook_url: str | None) -> None:
        """An account of its own (faults, events, webhook endpoint) for one shop or test."""
        body = {"api_key": api_key, "webhook_secret": webhook_secret, "webhook_url": webhook_url}
        httpx.post(f"{self.url}/_sim/accounts", json=body, timeout=5).raise_for_status()

    def start(self, timeout: float = 20) -> None:
        require_free_port(self.port, "the payment simulator", "EDGECART_PAYSIM_PORT")
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / "paysim.log"
        env = {"PATH": "/usr/bin:/bin", "PAYSIM_API_KEY": self.api_key,
               "PAYSIM_WEBHOOK_SECRET": self.webhook_secret,
               "PAYSIM_WEBHOOK_URL": self.webhook_url or ""}  # fmt: skip
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [python_tool("hypercorn"), "app.paysim.asgi:app", "--bind",
                 f"127.0.0.1:{self.port}", "--graceful-timeout", "1"],
                cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DevStackError(f"the payment simulator exited; see {log}")
            try:
                if httpx.get(f"{self.url}/_sim/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise DevStackError(
            f"the payment simulator did not answer within {timeout:.0f} s; see {log}"
        )

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=4)
