"""The edge: hit ratio, throughput against nginx, purge-to-fresh latency, 10,000 connections.

`.venv/bin/python -m bench.edge [--products 10000] [--browse-requests 40000]
[--requests 20000] [--concurrency 64] [--purges 40] [--connections 10000] [--duration-limit 20]`

Seeds a private PostgreSQL with `--products` products (as bench/product_page.py does), starts two
hypercorn instances, an arq worker (EDGE_PURGE_URL pointing at the edge) and Varnish with
cdn/default.vcl in front, plus nginx serving the product page's exact bytes as a static file.
Then, each run bounded in requests and seconds, against 127.0.0.1 only:

1. hit ratio: a browse mix of product pages drawn from a Zipf distribution over all products
   (s = 1.1), category pages and the home page, with 5 % personal requests (/fragments/me, which
   the edge passes); a first pass fills the cache, the second is measured. Read from varnishstat.
2. throughput: one cached product page through the edge, then the same bytes from nginx.
3. purge-to-fresh: a price change through the catalog service, then polling the edge until the
   new price shows, `--purges` times; p50 and p99.
4. `--connections` concurrent connections (wrk, 2 threads) on the cached page; errors counted.

Prints a table and writes bench/results/edge.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from app.catalog import service as catalog
from app.db import create_engine, create_sessionmaker, transaction
from app.devstack.ports import free_port, wait_for_port
from app.devstack.processes import start_web, start_worker, stop_process
from app.devstack.varnish import LocalVarnish
from app.settings import PROJECT_ROOT, Settings
from bench.load import run_wrk
from bench.product_page import _git, _output_to, _prepare, run_and_report

RESULTS = PROJECT_ROOT / "bench" / "results" / "edge.json"
ZIPF_S = 1.1
PERSONAL_SHARE = 0.05
PRICE = re.compile(r'data-testid="product-price">([^<]+)<')


def _raise_fd_limit(wanted: int = 65536) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _browse_mix(slugs: list[str], categories: list[str], n: int, rng: random.Random) -> list[str]:
    weights = [1 / (rank**ZIPF_S) for rank in range(1, len(slugs) + 1)]
    products = rng.choices(slugs, weights=weights, k=n)
    paths = []
    for slug in products:
        roll = rng.random()
        if roll < PERSONAL_SHARE:
            paths.append("/fragments/me")
        elif roll < PERSONAL_SHARE + 0.10:
            paths.append(f"/categories/{rng.choice(categories)}")
        elif roll < PERSONAL_SHARE + 0.12:
            paths.append("/")
        else:
            paths.append(f"/products/{slug}")
    return paths


def _varnishstat(varnish: LocalVarnish) -> dict[str, int]:
    out = subprocess.run(
        ["varnishstat", "-1", "-j", "-n", str(varnish.directory / "state")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout)
    counters = data.get("counters", data)
    return {
        name: int(counters[f"MAIN.{name}"]["value"])
        for name in ("client_req", "cache_hit", "cache_hitmiss", "cache_miss", "s_pass",
                     "cache_hit_grace")
    }  # fmt: skip


def _settled_varnishstat(
    varnish: LocalVarnish, since: dict[str, int], requests: int
) -> dict[str, int]:
    """varnishstat once every request of the run is counted: worker threads fold their counters
    into the totals lazily, so a read right after a run misses some."""
    deadline = time.monotonic() + 15
    while True:
        now = _varnishstat(varnish)
        if now["client_req"] - since["client_req"] >= requests or time.monotonic() > deadline:
            return now
        time.sleep(0.2)


def _start_nginx(workdir: Path, body: bytes, stops: contextlib.ExitStack) -> tuple[str, str]:
    root = workdir / "nginx"
    (root / "www").mkdir(parents=True)
    (root / "www" / "page.html").write_bytes(body)
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(
        f"""worker_processes auto; daemon off; pid {root}/nginx.pid; error_log {root}/error.log;
events {{ worker_connections 16384; }}
http {{ access_log off; default_type text/html; keepalive_requests 100000;
  server {{ listen 127.0.0.1:{port}; root {root}/www; }} }}
"""
    )
    process = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(root)], stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    stops.callback(stop_process, process)
    wait_for_port(port, 10, "nginx")
    return f"http://127.0.0.1:{port}", "/page.html"


async def _purge_latencies(database_url: str, edge: str, path: str, times: int) -> list[float]:
    engine = create_engine_for(database_url)
    sessionmaker = create_sessionmaker(engine)
    slug = path.removeprefix("/products/")
    latencies = []
    try:
        async with transaction(sessionmaker) as session:
            variant = (await catalog.get_product(session, slug)).variants[0]
        async with httpx.AsyncClient(base_url=edge, timeout=10) as http:
            for n in range(times):
                price = variant.price_minor + 100 * (n + 1)
                await http.get(path)  # cached before the change
                async with transaction(sessionmaker) as session:
                    await catalog.change_price(session, variant.id, price)
                committed = time.monotonic()
                wanted = f"{price // 100:,}.{price % 100:02d}"
                while time.monotonic() - committed < 10:
                    found = PRICE.search((await http.get(path)).text)
                    if found and wanted in found.group(1):
                        break
                latencies.append(time.monotonic() - committed)
    finally:
        await engine.dispose()
    return latencies


def create_engine_for(database_url: str) -> Any:
    return create_engine(Settings(database_url=database_url, db_pool_size=2))


def run(args: argparse.Namespace, workdir: Path, stops: contextlib.ExitStack) -> dict[str, Any]:
    fd_limit = _raise_fd_limit()
    bench = _prepare(args, workdir, stops)
    settings = bench.settings
    edge_port = free_port()
    env = {
        **os.environ, "EDGECART_ENV": "test", "LOG_JSON": "false",
        "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
        "STATIC_DIR": str(settings.static_dir), "MEDIA_DIR": str(settings.media_dir),
        "EDGE_PURGE_URL": f"http://127.0.0.1:{edge_port}",
    }  # fmt: skip
    ports = [free_port(), free_port()]
    with _output_to(workdir / "server.log"):
        for port in ports:
            stops.callback(stop_process, start_web("127.0.0.1", port, env))
        stops.callback(stop_process, start_worker(env))
    for port in ports:
        wait_for_port(port, 60, "the app (hypercorn)")
    varnish = LocalVarnish(workdir / "varnish", edge_port, ports, storage="malloc,1g")
    varnish.start()
    stops.callback(varnish.stop)
    edge = varnish.url

    slugs = _psql_column(bench, "SELECT slug FROM product ORDER BY id")
    categories = _psql_column(bench, "SELECT slug FROM category ORDER BY id")
    rng = random.Random(8)  # a load pattern, not a secret
    limit = args.duration_limit

    # 1. hit ratio: fill, then measure
    mix = _browse_mix(slugs, categories, args.browse_requests, rng)
    run_wrk([edge + p for p in mix], len(mix), args.concurrency, limit * 3)
    before = _varnishstat(varnish)
    mix = _browse_mix(slugs, categories, args.browse_requests, rng)
    browse = run_wrk([edge + p for p in mix], len(mix), args.concurrency, limit * 3)
    after = _settled_varnishstat(varnish, before, browse["requests"])
    delta = {name: after[name] - before[name] for name in after}
    lookups = delta["cache_hit"] + delta["cache_miss"] + delta["cache_hitmiss"]
    hit_ratio = delta["cache_hit"] / lookups if lookups else 0.0

    # 2. throughput: the cached page through the edge against the same bytes from nginx
    page_url = edge + bench.page_path
    body = httpx.get(page_url, headers={"Accept-Encoding": "identity"}).content
    nginx, nginx_path = _start_nginx(workdir, body, stops)
    run_wrk([page_url], 2000, args.concurrency, limit)
    edge_run = run_wrk([page_url], args.requests, args.concurrency, limit)
    run_wrk([nginx + nginx_path], 2000, args.concurrency, limit)
    nginx_run = run_wrk([nginx + nginx_path], args.requests, args.concurrency, limit)

    # 3. purge-to-fresh
    latencies = asyncio.run(
        _purge_latencies(settings.database_url, edge, bench.page_path, args.purges)
    )
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    # 4. many connections
    many = run_wrk([page_url], args.connections * 5, args.connections, limit)

    return {
        "benchmark": "edge",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain")),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "fd_limit": fd_limit,
        "params": vars(args),
        "page_bytes": len(body),
        "hit_ratio": {
            "measured_requests": browse["requests"],
            "ratio": round(hit_ratio, 4),
            "goal": 0.98,
            "counters": delta,
            "personal_share": PERSONAL_SHARE,
            "zipf_s": ZIPF_S,
            "browse_run": browse,
        },
        "throughput": {
            "edge": edge_run,
            "nginx": nginx_run,
            "goal": 0.8,
            "ratio": round(edge_run["requests_per_s"] / nginx_run["requests_per_s"], 3),
        },
        "purge_to_fresh_s": {
            "n": len(latencies),
            "p50": round(statistics.median(latencies), 3),
            "p99": round(p99, 3),
            "max": round(max(latencies), 3),
            "goal_p99": 1.0,
        },
        "many_connections": many,
    }


def _psql_column(bench: Any, sql: str) -> list[str]:
    url = bench.settings.database_url
    port = re.search(r":(\d+)/", url)
    assert port is not None
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", port.group(1), "-U", "postgres", "-d", "bench",
         "-At", "-c", sql],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [line for line in out.stdout.splitlines() if line]


def _print_report(report: dict[str, Any]) -> None:
    hits, through, purge = report["hit_ratio"], report["throughput"], report["purge_to_fresh_s"]
    edge, nginx, many = through["edge"], through["nginx"], report["many_connections"]
    products, load = report["params"]["products"], report["load_average"]
    lines = [
        f"edge benchmark ({products} products, load average {load:.1f} at the end)",
        f"  hit ratio, Zipf browse mix with 5 % personal: {hits['ratio']:.2%} "
        f"over {hits['measured_requests']} requests (goal 98 %)",
        f"  edge, cached product page: {edge['requests_per_s']:.0f} req/s, "
        f"p99 {edge['p99_ms']:.1f} ms, errors {edge['errors']}",
        f"  nginx, the same bytes as a file: {nginx['requests_per_s']:.0f} req/s, "
        f"p99 {nginx['p99_ms']:.1f} ms, errors {nginx['errors']}",
        f"  edge / nginx: {through['ratio']:.2f} (goal 0.80)",
        f"  purge-to-fresh over {purge['n']} price changes: p50 {purge['p50'] * 1000:.0f} ms, "
        f"p99 {purge['p99'] * 1000:.0f} ms (goal 1000 ms)",
        f"  {report['params']['connections']} connections: {many['requests']} requests, "
        f"{many['requests_per_s']:.0f} req/s, errors {many['errors']}",
    ]
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--browse-requests", type=int, default=40000)
    parser.add_argument("--requests", type=int, default=20000, help="per throughput run")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--purges", type=int, default=40)
    parser.add_argument("--connections", type=int, default=10000)
    parser.add_argument("--duration-limit", type=float, default=20, help="seconds per load run")
    parser.add_argument("--client", default="wrk", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        raise SystemExit("bench.edge needs wrk and nginx (./scripts/install.sh installs both)")
    run_and_report(run, args, _print_report, RESULTS)


if __name__ == "__main__":
    main()
