"""The product page against a static file of the same size, both served by one hypercorn.

    .venv/bin/python bench/product_page.py [--products 1000] [--requests 3000]
                                           [--concurrency 32] [--duration-limit 30]

Private PostgreSQL and Redis in a temporary directory, a seeded catalog, the static build plus
a reference file as large as the product page's HTML, and one app instance (hypercorn, 1 worker).
A second process (bench/load.py: wrk, else httpx) sends the same bounded, uncompressed load to
both. Prints and writes (bench/results/product_page.json) req/s, p50/p99, errors, their ratios
and the worker's peak RSS. On 2 cores the figures are noisy: read the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from app.assets import build_static
from app.catalog.seed import SeedReport, seed_catalog
from app.commands import build_search_index
from app.db import create_engine
from app.devstack.ports import free_port, wait_for_port
from app.devstack.postgres import LocalPostgres
from app.devstack.processes import start_web, stop_process
from app.devstack.redis_server import LocalRedis
from app.main import create_starlette
from app.migrate import upgrade_to_head
from app.settings import PROJECT_ROOT, Settings

RESULTS = PROJECT_ROOT / "bench" / "results" / "product_page.json"
RSS_AIM_MB = 150
WARMUP_REQUESTS = 200
IDENTITY = {"Accept-Encoding": "identity"}


@dataclass(frozen=True)
class Bench:
    settings: Settings
    seeded: SeedReport
    base_url: str  # where the server will listen
    page_path: str
    page_bytes: int
    reference_path: str


async def _seed(database_url: str, products: int, media_dir: Path) -> SeedReport:
    engine = create_engine(Settings(database_url=database_url, db_pool_size=2))
    try:
        report = await seed_catalog(engine, products=products, media_dir=media_dir)
        await build_search_index(engine)
        return report
    finally:
        await engine.dispose()


async def _page_bytes(settings: Settings, base_url: str, path: str) -> int:
    """The page's size, rendered here before the server starts (its static file list is fixed
    then). Links in the page are absolute, so it is rendered for the server's own address."""
    starlette = create_starlette(settings)
    transport = httpx.ASGITransport(app=starlette)
    async with (
        starlette.router.lifespan_context(starlette),
        httpx.AsyncClient(transport=transport, base_url=base_url) as http,
    ):
        response = (await http.get(path, headers=IDENTITY)).raise_for_status()
        return len(response.content)


def _write_reference(static_dir: Path, size: int) -> str:
    """Text of exactly `size` bytes under a content-hashed name, like the built files."""
    line = b"Edgecart benchmark reference: a static file as large as the product page.\n"
    body = (line * (size // len(line) + 1))[:size]
    name = f"bench-reference.{hashlib.md5(body).hexdigest()[:12]}.txt"  # noqa: S324
    (static_dir / name).write_bytes(body)
    return name


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Children started inside write stdout and stderr to `log` (start_web takes no streams)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    try:
        yield
    finally:
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def _load(url: str | list[str], requests: int, args: argparse.Namespace) -> dict[str, Any]:
    """bench/load.py in a process of its own; several URLs (one host) take turns."""
    urls = [url] if isinstance(url, str) else url
    command = [
        sys.executable, "-m", "bench.load", *urls, "--requests", str(requests),
        "--concurrency", str(args.concurrency), "--duration", str(args.duration_limit),
        "--client", args.client,
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
        timeout=args.duration_limit + 60,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed on {url}:\n{done.stderr.strip()}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _process_tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found += _process_tree(int(child))
    return found


def _peak_rss_mb(server_pid: int) -> dict[str, float]:
    """VmHWM of hypercorn's spawned worker(s) and of its master process, in MiB."""
    peaks = {"worker": 0.0, "master": 0.0}
    for pid in _process_tree(server_pid):
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/status").read_text()
            kb = next(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmHWM"))
            if pid == server_pid:
                peaks["master"] = round(kb / 1024, 1)
            elif b"spawn_main" in cmdline:
                peaks["worker"] += round(kb / 1024, 1)
    return peaks


def _git(*command: str) -> str:
    done = subprocess.run(["git", *command], cwd=PROJECT_ROOT, capture_output=True, text=True)
    return done.stdout.strip()


def _print_report(report: dict[str, Any]) -> None:
    keys = ("requests_per_s", "p50_ms", "p99_ms", "errors", "requests")
    print(f"\n{'':18}", *(f"{key.replace('_per_s', '/s'):>14}" for key in keys))
    for name, figures in report["results"].items():
        print(f"{name.replace('_', ' '):18}", *(f"{figures[key]:>14}" for key in keys))
    ratios, rss = report["ratios_product_over_static"], report["peak_rss_mb"]
    print(f"{'product / static':18}", *(f"{ratios[key]:>14}" for key in keys[:2]))
    aim = "met" if rss["aim_met"] else "NOT met"
    print(f"peak RSS (VmHWM): worker {rss['worker']} MiB, aim <= {rss['aim']} {aim}; ", end="")
    print(f"hypercorn master {rss['master']} MiB")
    print(f"client: {report['load_tool']}, Accept-Encoding: identity; bytes: {report['bytes']}")
    print(f"access log: {report['access_log']}")
    if report["load_tool"] == "httpx":
        print("note: the httpx client is the bottleneck for the static file: install wrk")
    before, after = report["loadavg_before_after"]
    print(f"load average (1 min) before/after: {before} / {after} on {report['cpu_count']} CPUs")


def _prepare(args: argparse.Namespace, workdir: Path, stops: contextlib.ExitStack) -> Bench:
    postgres = LocalPostgres(workdir / "postgres", free_port())
    postgres.start()
    stops.callback(postgres.stop)
    redis = LocalRedis(workdir / "redis", free_port())
    redis.start()
    stops.callback(redis.stop)
    postgres.create_database("bench")
    settings = Settings(
        environment="test", database_url=postgres.url("bench"), redis_url=redis.url,
        static_dir=workdir / "static", media_dir=workdir / "media", db_pool_size=2, log_json=False,
    )  # fmt: skip
    upgrade_to_head(settings.database_url)
    seeded = asyncio.run(_seed(settings.database_url, args.products, settings.media_dir))
    page = "/products/" + postgres.psql("SELECT slug FROM product WHERE id = 1", "bench").strip()
    build_static(settings.static_dir)
    base_url = f"http://127.0.0.1:{free_port()}"
    page_bytes = asyncio.run(_page_bytes(settings, base_url, page))
    reference = "/static/" + _write_reference(settings.static_dir, page_bytes)
    return Bench(settings, seeded, base_url, page, page_bytes, reference)


def _serve(bench: Bench, log: Path, stops: contextlib.ExitStack, workers: int = 1) -> int:
    """Start hypercorn (1 worker unless told) with its output going to `log`; return its pid."""
    settings, port = bench.settings, int(bench.base_url.rsplit(":", 1)[1])
    env = {
        **os.environ, "EDGECART_ENV": "test", "LOG_JSON": "false",
        "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
        "STATIC_DIR": str(settings.static_dir), "MEDIA_DIR": str(settings.media_dir),
    }  # fmt: skip
    with _output_to(log):
        web = start_web("127.0.0.1", port, env, workers)
    stops.callback(stop_process, web)
    wait_for_port(port, 30, "the app (hypercorn)")
    return web.pid


def run(args: argparse.Namespace, workdir: Path, stops: contextlib.ExitStack) -> dict[str, Any]:
    bench = _prepare(args, workdir, stops)
    log = workdir / "server.log"
    pid = _serve(bench, log, stops)
    urls = {
        "product_page": bench.base_url + bench.page_path,
        "static_reference": bench.base_url + bench.reference_path,
    }
    served = {
        name: len(httpx.get(url, headers=IDENTITY).raise_for_status().content)
        for name, url in urls.items()
    }
    for url in urls.values():
        _load(url, WARMUP_REQUESTS, args)
    loadavg_before = os.getloadavg()
    results = {name: _load(url, args.requests, args) for name, url in urls.items()}
    rss = _peak_rss_mb(pid)
    page, static = results["product_page"], results["static_reference"]
    return {
        "benchmark": "product_page",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain")),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "loadavg_before_after": [round(loadavg_before[0], 2), round(os.getloadavg()[0], 2)],
        "parameters": {**vars(args), "warmup_requests": WARMUP_REQUESTS, "workers": 1},
        "load_tool": page["tool"],
        "accept_encoding": "identity",
        "access_log": {"on": True, "format": "plain", "lines": log.read_bytes().count(b"\n")},
        "seed": vars(bench.seeded),
        "bytes": {"page_rendered": bench.page_bytes, **served},
        "results": results,
        "ratios_product_over_static": {
            "requests_per_s": round(page["requests_per_s"] / max(static["requests_per_s"], 0.1), 3),
            "p50_ms": round(page["p50_ms"] / max(static["p50_ms"], 0.001), 2),
        },
        "peak_rss_mb": {**rss, "aim": RSS_AIM_MB, "aim_met": rss["worker"] <= RSS_AIM_MB},
    }


Runner = Callable[[argparse.Namespace, Path, contextlib.ExitStack], dict[str, Any]]


def run_and_report(
    run: Runner, args: argparse.Namespace, print_report: Callable[[dict[str, Any]], None],
    results: Path,
) -> None:  # fmt: skip
    """Run a benchmark in a temporary directory, stop what it started, print and save figures."""
    with contextlib.ExitStack() as stops:  # stopped in reverse order, the directory last
        workdir = Path(tempfile.mkdtemp(prefix="edgecart-bench-"))
        stops.callback(shutil.rmtree, workdir, ignore_errors=True)
        workdir.chmod(0o755)  # the postgres user must be able to enter it
        try:
            report = run(args, workdir, stops)
        except BaseException:
            log = workdir / "server.log"
            tail = log.read_text(errors="replace").splitlines()[-20:] if log.exists() else []
            if tail:
                print("the server's last output lines:", *tail, sep="\n", file=sys.stderr)
            raise
    print_report(report)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {results.relative_to(PROJECT_ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=3000, help="per URL measured")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration-limit", type=float, default=30, help="seconds per load run")
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto")
    args = parser.parse_args()
    run_and_report(run, args, _print_report, RESULTS)


if __name__ == "__main__":
    main()
