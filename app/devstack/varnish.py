"""Varnish with the xkey module in front of one or more app instances (cdn/default.vcl)."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.devstack.binaries import find_binary
from app.devstack.errors import DevStackError
from app.devstack.ports import free_port, require_free_port, wait_for_port
from app.settings import PROJECT_ROOT

VCL_SOURCE = PROJECT_ROOT / "cdn" / "default.vcl"
DEFAULT_PURGERS = ("127.0.0.1", "::1")
# varnishd -p parameters for every edge started here (and the VCL tests); each is explained in
# docs/edge.md ("varnishd parameters").
VARNISHD_PARAMETERS: tuple[tuple[str, str], ...] = (
    # The VCL normalises Accept-Encoding itself (br, gzip or nothing).
    ("http_gzip_support", "off"),
)
_BLOCK = "# BEGIN {name}\n(?:.*\n)*?# END {name}\n"


def varnish_installed() -> bool:
    return shutil.which("varnishd") is not None or Path("/usr/sbin/varnishd").exists()


def _backends_block(ports: Sequence[int], host: str, probes: bool) -> str:
    if not ports:
        raise DevStackError("the edge needs at least one app instance behind it")
    lines = ["# BEGIN backends"]
    for number, port in enumerate(ports, start=1):
        lines += [
            f"backend app{number} {{",
            f'    .host = "{host}";',
            f'    .port = "{int(port)}";',
            "    .connect_timeout = 2s;",
            "    .first_byte_timeout = 30s;",
            *(["    .probe = health;"] if probes else []),
            "}",
        ]
    lines += ["sub vcl_init {", "    new origin = directors.round_robin();"]
    lines += [f"    origin.add_backend(app{number});" for number in range(1, len(ports) + 1)]
    lines += ["}", "# END backends", ""]
    return "\n".join(lines)


def _purgers_block(purgers: Sequence[str]) -> str:
    entries = []
    for entry in purgers:
        network = ipaddress.ip_network(entry, strict=False)  # refuses anything but an address
        address, _, prefix = str(network).partition("/")
        full = network.max_prefixlen == network.prefixlen
        entries.append(f'    "{address}";' if full else f'    "{address}"/{prefix};')
    return "\n".join(["# BEGIN purgers", "acl purgers {", *entries, "}", "# END purgers", ""])


def render_vcl(
    backend_ports: Sequence[int],
    purgers: Sequence[str] = DEFAULT_PURGERS,
    backend_host: str = "127.0.0.1",
    probes: bool = True,
) -> str:
    """The committed VCL with these app instances behind the director and these addresses (or
    networks, "10.0.0.0/8") allowed to PURGE. `probes=False` leaves the health probe unused
    (varnishd then needs `-p vcc_err_unref=off`): for varnishtest, whose scripted servers answer
    only the requests a test expects; the test sets health itself (`backend.set_health`)."""
    source = VCL_SOURCE.read_text()
    for name, block in (
        ("backends", _backends_block(backend_ports, backend_host, probes)),
        ("purgers", _purgers_block(purgers)),
    ):
        replacement = block.replace("\\", "\\\\")  # literal text, not a template
        source, found = re.subn(_BLOCK.format(name=name), replacement, source, count=1)
        if found != 1:
            raise DevStackError(f"{VCL_SOURCE} has no '# BEGIN {name}' … '# END {name}' block")
    return source


def varnishd_parameter_args(
    parameters: Sequence[tuple[str, str]] = VARNISHD_PARAMETERS,
) -> list[str]:
    """Parameters as varnishd arguments: ["-p", "name=value", …]."""
    return [arg for name, value in parameters for arg in ("-p", f"{name}={value}")]


@dataclass
class LocalVarnish:
    """varnishd in the foreground on 127.0.0.1:`port`, round-robin over `backend_ports`."""

    directory: Path
    port: int
    backend_ports: Sequence[int]
    purgers: Sequence[str] = DEFAULT_PURGERS
    storage: str = "malloc,256m"
    parameters: Sequence[tuple[str, str]] = VARNISHD_PARAMETERS
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = find_binary("varnishd", "varnish varnish-modules", ["/usr/sbin"])
        require_free_port(self.port, "the edge (Varnish)", "EDGE_PORT")
        self.directory.mkdir(parents=True, exist_ok=True)
        vcl = self.directory / "default.vcl"
        vcl.write_text(render_vcl(self.backend_ports, self.purgers))
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
                    self.storage,
                    *varnishd_parameter_args(self.parameters),
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
