"""cdn/default.vcl in isolation: varnishtest runs cdn/default.vtc against scripted origins.

The VCL is rendered by the code LocalVarnish uses (render_vcl), once with 127.0.0.1 allowed to
purge and once without it (varnishtest's clients always connect from 127.0.0.1), and varnishd
gets LocalVarnish's parameters. On failure the test shows varnishtest's log.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from app.devstack.binaries import find_binary
from app.devstack.ports import free_port
from app.devstack.varnish import render_vcl, varnishd_parameter_args
from app.settings import PROJECT_ROOT

VTC = PROJECT_ROOT / "cdn" / "default.vtc"
OUTSIDE_PURGERS = ["192.0.2.1"]  # TEST-NET-1: an address no test client has
TIMEOUT_SECONDS = 90  # varnishtest's own limit (-t); a busy machine compiles VCL in seconds


def varnishtest_command(directory: Path) -> list[str]:
    origin_port = free_port()
    inside = directory / "inside.vcl"
    outside = directory / "outside.vcl"
    inside.write_text(render_vcl([origin_port], probes=False))
    outside.write_text(render_vcl([origin_port], OUTSIDE_PURGERS, probes=False))
    # No jail, as LocalVarnish runs it: the jail's users could not read the VCL in tmp_path.
    varnishd_args = " ".join(["-j", "none", *varnishd_parameter_args(), "-p", "vcc_err_unref=off"])
    return [
        find_binary("varnishtest", "varnish"),
        "-v",
        "-t",
        str(TIMEOUT_SECONDS),
        f"-Dorigin=127.0.0.1:{origin_port}",
        f"-Dvcl_inside={inside}",
        f"-Dvcl_outside={outside}",
        f"-Dvarnishd_args={varnishd_args}",
        str(VTC),
    ]


def test_default_vcl_passes_varnishtest(tmp_path: Path) -> None:
    # given the committed VCL rendered as the edge runs it
    command = varnishtest_command(tmp_path)

    # when varnishtest runs cdn/default.vtc
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS + 30, check=False
    )

    # then every expectation in it held
    log = finished.stdout + finished.stderr
    failures = "\n".join(line for line in log.splitlines() if line.startswith(("----", "#")))
    assert finished.returncode == 0, (
        f"varnishtest failed ({finished.returncode}):\n{failures}\n\n"
        f"the end of its log:\n{log[-20000:]}"
    )
    assert "passed" in log
