"""The edge: hit ratio, throughput against nginx, purge-to-fresh latency, 10,000 connections.

`.venv/bin/python -m bench.edge [--products 10000] [--browse-requests 40000]
[--requests 20000] [--concurrency 64] [--purges 40] [--connections 10000] [--duration-limit 20]
[--varnish-param NAME=VALUE ...]`

Seeds a private PostgreSQL with `--products` products (as bench/product_page.py does), starts two
hypercorn instances, an arq worker (EDGE_PURGE_URL pointing at the edge) and Varnish with
cdn/default.vcl in front, plus nginx serving the product page's exact bytes, with the edge's
response headers, as a static file. Then, each run bounded in requests and seconds, against
127.0.0.1 only:

1. hit ratio (bench/edge_hits.py): a browse mix of product pages drawn from a Zipf distribution
   over all products (s = 1.1), category pages and the home page, with 5 % personal requests
   (/fragments/me: passes, not lookups, so outside the ratio). Cold: a fill pass, then a measured
   pass. Steady: after a warm-up crawl of every page in the sitemaps and every category, one more
   measured pass. Read from varnishstat, with how many URLs each pass drew that no earlier pass
   had (a cold miss can only be one of those).
2. throughput: one cached product page through the edge and the same bytes from nginx, both
   warmed, the same wrk settings, three alternating rounds; the ratio of the totals.
3. purge-to-fresh: a price change through the catalog service, then polling the edge until the
   new price shows, `--purges` times; p50 and p99.
4. `--connections` concurrent connections (wrk, one thread) on the cached page; errors counted.

Prints a table and writes bench/results/edge.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from app.devstack.varnish import VARNISHD_PARAMETERS, LocalVarnish
from app.settings import PROJECT_ROOT, Settings
from bench.edge_hits import (
    PERSONAL_SHARE,
    ZIPF_S,
    browse_mix,
    measured_pass,
    sitemap_paths,
)
from bench.load import run_wrk
from bench.product_page import _git, _output_to, _prepare, run_and_report

RESULTS = PROJECT_ROOT / "bench" / "results" / "edge.json"
ROUNDS = 3  # throughput: edge and nginx take turns, so a burst of other work hits both
# Headers nginx must not be told to add: it writes its own framing and date.
OWN_HEADERS = {"date", "content-length", "connection", "keep-alive", "content-type"}
PRICE = re.compile(r'data-testid="product-price">([^<]+)<')


def _raise_fd_limit(wanted: int = 65536) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _nginx_header(name: str, value: str) -> str:
    quoted = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'add_header {name} "{quoted}" always;'


def _start_nginx(
    workdir: Path, body: bytes, headers: list[tuple[str, str]], stops: contextlib.ExitStack
) -> tuple[str, str]:
    """nginx serving `body` as a file with the edge's response headers, so both send the same
    bytes (give or take nginx's Server, ETag and Last-Modified, and the edge's Age)."""
    root = workdir / "nginx"
    (root / "www").mkdir(parents=True)
    (root / "www" / "page.html").write_bytes(body)
    port = free_port()
    extra = "\n    ".join(_nginx_header(name, value) for name, value in headers if "$" not in value)
    conf = root / "nginx.conf"
    conf.write_text(
        f"""worker_processes auto; daemon off; pid {root}/nginx.pid; error_log {root}/error.log;
events {{ worker_connections 16384; }}
http {{ access_log off; types {{ }} default_type "text/html; charset=utf-8";
  keepalive_requests 100000;
  server {{ listen 127.0.0.1:{port}; root {root}/www;
    {extra}
  }} }}
"""
    )
    process = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(root)], stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    stops.callback(stop_process, process)
    wait_for_port(port, 10, "nginx")
    return f"http://127.0.0.1:{port}", "/page.html"


def _head_bytes(url: str) -> int:
    """The size of the response's status line and headers as sent."""
    response = httpx.get(url, headers={"Accept-Encoding": "identity"})
    lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
    lines += [f"{name}: {value}" for name, value in response.headers.multi_items()]
    return len("\r\n".join(lines).encode()) + 4


def _alternate(
    urls: dict[str, str], requests: int, concurrency: int, limit: float
) -> dict[str, Any]:
    """`ROUNDS` rounds in which every URL takes its turn; the totals and each round's runs."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in urls}
    for _ in range(ROUNDS):
        for name, url in urls.items():
            runs[name].append(run_wrk([url], requests, concurrency, limit))
    totals = {}
    for name, done in runs.items():
        answered = sum(run["requests"] for run in done)
        seconds = sum(run["seconds"] for run in done)
        totals[name] = {
            "requests": answered,
            "seconds": round(seconds, 3),
            "requests_per_s": round(answered / seconds, 1),
            "p99_ms_worst": max(run["p99_ms"] for run in done),
            "p50_ms_median": statistics.median(run["p50_ms"] for run in done),
            "errors": sum(run["errors"] for run in done),
            "rounds": done,
        }
    return totals


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
    extra = [tuple(p.split("=", 1)) for p in args.varnish_param]
    parameters = [*VARNISHD_PARAMETERS, *((name, value) for name, value in extra)]
    varnish = LocalVarnish(
        workdir / "varnish", edge_port, ports, storage="malloc,1g", parameters=parameters
    )
    varnish.start()
    stops.callback(varnish.stop)
    edge = varnish.url

    slugs = _psql_column(bench, "SELECT slug FROM product ORDER BY id")
    categories = _psql_column(bench, "SELECT slug FROM category ORDER BY id")
    rng = random.Random(8)  # a load pattern, not a secret
    limit = args.duration_limit

    # 1. hit ratio. Cold: a fill pass, then a measured pass; what misses is the Zipf tail the
    # fill never drew. Then a warmer crawls every page in the sitemaps (what a deploy's cache
    # warmer does) and another pass is measured: the steady state.
    seen: set[str] = set()
    passes = {}
    conc = args.concurrency
    mix = browse_mix(slugs, categories, args.browse_requests, rng)
    passes["fill"] = measured_pass(varnish, edge, mix, seen, conc, limit * 3)
    mix = browse_mix(slugs, categories, args.browse_requests, rng)
    passes["cold"] = measured_pass(varnish, edge, mix, seen, conc, limit * 3)
    warm = sitemap_paths(edge)
    warm += [f"/categories/{slug}" for slug in categories]
    warm = list(dict.fromkeys(warm))
    passes["warm_crawl"] = measured_pass(varnish, edge, warm, seen, conc, limit * 3)
    mix = browse_mix(slugs, categories, args.browse_requests, rng)
    passes["steady"] = measured_pass(varnish, edge, mix, seen, conc, limit * 3)

    # 2. throughput: the cached page through the edge against the same bytes from nginx, both
    # warmed, the same wrk settings, taking turns.
    page_url = edge + bench.page_path
    page = httpx.get(page_url, headers={"Accept-Encoding": "identity"})
    body = page.content
    headers = [(k, v) for k, v in page.headers.multi_items() if k.lower() not in OWN_HEADERS]
    nginx, nginx_path = _start_nginx(workdir, body, headers, stops)
    nginx_url = nginx + nginx_path
    for url in (page_url, nginx_url):
        run_wrk([url], 2000, args.concurrency, limit)
    through = _alternate(
        {"edge": page_url, "nginx": nginx_url}, args.requests, args.concurrency, limit
    )

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
        "head_bytes": {"edge": _head_bytes(page_url), "nginx": _head_bytes(nginx_url)},
        "hit_ratio": {
            "cold": passes["cold"]["ratio"],
            "steady": passes["steady"]["ratio"],
            "goal": 0.98,
            "personal_share": PERSONAL_SHARE,
            "zipf_s": ZIPF_S,
            "warm_crawl_urls": len(warm),
            "passes": passes,
        },
        "throughput": {
            **through,
            "rounds": ROUNDS,
            "goal": 0.8,
            "ratio": round(
                through["edge"]["requests_per_s"] / through["nginx"]["requests_per_s"], 3
            ),
            "round_ratios": [
                round(e["requests_per_s"] / n["requests_per_s"], 3)
                for e, n in zip(through["edge"]["rounds"], through["nginx"]["rounds"], strict=True)
            ],
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
    cold, steady = hits["passes"]["cold"], hits["passes"]["steady"]
    heads = report["head_bytes"]
    lines = [
        f"edge benchmark ({products} products, load average {load:.1f} at the end)",
        f"  hit ratio, Zipf browse mix, {hits['personal_share']:.0%} personal (passes, not "
        "lookups; outside the ratio):",
        f"    cold (one fill pass of the same size before): {cold['ratio']:.2%} of "
        f"{cold['lookups']} lookups, {cold['counters']['cache_miss']} misses, "
        f"{cold['new_urls']} URLs the fill never drew (goal 98 %)",
        f"    steady (after a warm-up crawl of {hits['warm_crawl_urls']} sitemap and category "
        f"pages): {steady['ratio']:.2%} of {steady['lookups']} lookups, "
        f"{steady['counters']['cache_miss']} misses, {steady['new_urls']} URLs never seen",
        f"  cached product page ({report['page_bytes']} B body; headers edge "
        f"{heads['edge']} B, nginx {heads['nginx']} B), {through['rounds']} alternating rounds:",
        f"    edge: {edge['requests_per_s']:.0f} req/s, p50 {edge['p50_ms_median']:.1f} ms, "
        f"worst p99 {edge['p99_ms_worst']:.1f} ms, errors {edge['errors']}",
        f"    nginx: {nginx['requests_per_s']:.0f} req/s, p50 {nginx['p50_ms_median']:.1f} ms, "
        f"worst p99 {nginx['p99_ms_worst']:.1f} ms, errors {nginx['errors']}",
        f"    edge / nginx: {through['ratio']:.2f} (goal 0.80; rounds "
        f"{', '.join(f'{r:.2f}' for r in through['round_ratios'])})",
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
    parser.add_argument(
        "--varnish-param", action="append", default=[], metavar="NAME=VALUE",
        help="an extra varnishd -p parameter, after LocalVarnish's (to compare settings)",
    )  # fmt: skip
    args = parser.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        raise SystemExit("bench.edge needs wrk and nginx (./scripts/install.sh installs both)")
    run_and_report(run, args, _print_report, RESULTS)


if __name__ == "__main__":
    main()
