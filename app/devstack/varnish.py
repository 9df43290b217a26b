"""Varnish with the xkey module in front of the app (cdn/edgecart.vcl)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from app.devstack.binaries import find_binary
from app.devstack.errors import DevStackError
from app.devstack.ports import free_port, require_free_port, wait_for_port
from app.settings import PROJECT_ROOT

VCL_SOURCE = PROJECT_ROOT / "cdn" / "edgecart.vcl"


def varnish_installed() -> bool:
    return shutil.which("varnishd") is not None or Path("/usr/sbin/varnishd").exists()


def vcl_for_backend(backend_port: int) -> str:
    """The committed VCL with the origin's port swapped in."""
    source = VCL_SOURCE.read_text()
    return re.sub(r'(\.port = ")\d+(";)', rf"\g<1>{backend_port}\g<2>", source, count=1)


@dataclass
class LocalVarnish:
    directory: Path
    port: int
    backend_port: int
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = find_binary("varnishd", "varnish varnish-modules", ["/usr/sbin"])
        require_free_port(self.port, "the edge (Varnish)", "EDGE_PORT")
        self.directory.mkdir(parents=True, exist_ok=True)
        vcl = self.directory / "edgecart.vcl"
        vcl.write_text(vcl_for_backend(self.backend_port))
        log = self.directory / "varnishd.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    binary,
                    "-F",
                    "-j",
                    "none",
                    "-a",
                    f"127.0.0.1:{self.port}",
                    "-T",
                    f"127.0.0.1:{free_port()}",
                    "-n",
                    str(self.directory / "state"),
                    "-f",
                    str(vcl),
                    "-s",
                    "malloc,256m",
                    "-p",
                    "default_grace=3600",
                ],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for_port(self.port, 20, "Varnish")
        except DevStackError:
            self.stop()
            raise DevStackError(
                f"Varnish failed to start on port {self.port} "
                f"(is varnish-modules installed for xkey?); see {log}"
            ) from None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
