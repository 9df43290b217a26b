"""A local OpenID provider ("Demo ID") for `edgecart dev` and the tests.

It is the certified `oidc-provider` npm package, run by `oidc_provider.mjs` beside this file
with Node, on a loopback port, logging into a directory of its own. It holds everything in
memory: a restart forgets every sign-in, and its signing key is new each time.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from app.devstack.binaries import find_binary
from app.devstack.errors import DevStackError
from app.devstack.ports import require_free_port
from app.settings import PROJECT_ROOT

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
PACKAGE = PROJECT_ROOT / "node_modules" / "oidc-provider"
DEMO_PROVIDER = "demo"
DEMO_LABEL = "Demo ID"
DEMO_CLIENT_ID = "edgecart-dev"
DEMO_CLIENT_SECRET = "edgecart-dev-oidc-secret"  # noqa: S105  (a local, loopback-only provider)


@dataclass
class LocalOidcProvider:
    directory: Path
    port: int
    redirect_uris: list[str]
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app_env(self, provider: str = DEMO_PROVIDER, label: str = DEMO_LABEL) -> dict[str, str]:
        """The environment that points the shop at this provider."""
        return {
            "OIDC_PROVIDER": provider,
            "OIDC_LABEL": label,
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": self.client_id,
            "OIDC_CLIENT_SECRET": self.client_secret,
        }

    def start(self, timeout: float = 20) -> None:
        node = find_binary("node", "nodejs")
        if not (PACKAGE / "package.json").exists():
            raise DevStackError(
                "the npm package oidc-provider is not installed: run ./scripts/install.sh"
            )
        require_free_port(self.port, "the OpenID provider", "EDGECART_OIDC_PORT")
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / "oidc-provider.log"
        command = [node, str(SCRIPT), "--port", str(self.port), "--client-id", self.client_id,
                   "--client-secret", self.client_secret]  # fmt: skip
        for uri in self.redirect_uris:
            command += ["--redirect-uri", uri]
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_until_ready(timeout)
        except DevStackError as error:
            self.stop()
            raise DevStackError(f"{error}; see {log}") from None

    def _wait_until_ready(self, timeout: float) -> None:
        """Until the discovery document answers: listening alone is not ready."""
        url = f"{self.issuer}/.well-known/openid-configuration"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                code = self.process.returncode
                raise DevStackError(f"the OpenID provider exited with code {code}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise DevStackError(f"the OpenID provider did not answer {url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
