"""Search, category pages with facets and product pages at scale, beside the static reference.

    .venv/bin/python -m bench.search_category [--products 100000] [--requests 2000]
                            [--concurrency 1,4] [--workers 1] [--duration-limit 60]

The same set-up as bench/product_page.py (whose helpers it uses): private PostgreSQL and
Redis, a seeded catalog with its search index, the static build plus a reference file as large
as a product page, one hypercorn worker, and bench/load.py (wrk, else httpx) in a process of
its own. Each group of URLs is loaded in turn, its URLs taking turns, at each concurrency level:
1 connection shows the server's own latency, 4 a bounded load (with one worker, requests then
queue behind each other, so latency grows with the level). Prints and writes
bench/results/search_category.json: req/s, p50/p95/p99 and errors per group, against the
issue's targets. On 2 shared cores the figures move from run to run; the JSON keeps the load
average before and after.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine, text

from app.settings import PROJECT_ROOT
from bench.product_page import (
    IDENTITY,
    WARMUP_REQUESTS,
    _git,
    _load,
    _peak_rss_mb,
    _prepare,
    _serve,
    run_and_report,
)

RESULTS = PROJECT_ROOT / "bench" / "results" / "search_category.json"

# Words shoppers type for the demo catalog: product types, two-word searches, two broad words
# (a tenth of the catalog each) and six typos (a letter left out, two swapped, one doubled).
SEARCHES = [
    "sweater", "merino sweater", "chelsea boots", "linen shirt", "leather tote",
    "cast iron pan", "ceramic mug", "wool throw", "rain jacket", "hiking boots", "table lamp",
    "canvas sneakers", "leather", "backpack",
    "sweatr", "chelsae boot", "lether tote", "cermic mug", "linnen shirt", "backpak",
]  # fmt: skip
CATEGORIES = [
    "clothing", "shoes", "home", "kitchen", "outdoor", "accessories",
    "knitwear", "boots", "cookware", "bags",
]  # fmt: skip
FILTERED_CATEGORIES = [
    "clothing?in_stock=1", "shoes?brand=Northwind", "knitwear?material=Merino&price=50-100",
    "kitchen?colour=blue&sort=price_asc", "home?price=under-25&in_stock=1",
    "boots?material=Suede&brand=Kestrel", "outdoor?sort=price_desc",
    "accessories?material=Leather&colour=black", "cookware?brand=Lumen&brand=Sorrel",
    "clothing?page=2",
]  # fmt: skip
SUGGESTIONS = [
    "sw", "swe", "merino sw", "chel", "lin", "cast ir", "cer", "rain j", "sweatr", "bac",
]  # fmt: skip
PRODUCTS = 20  # product pages, spread over the catalog
# The targets at 100,000 products (p95, ms); not pass/fail, reported as met or not.
TARGETS = {"search": 30, "category": 40, "category_filtered": 40, "product_page": 15}


def _product_paths(database_url: str, products: int) -> list[str]:
    ids = [1 + i * max(1, products // PRODUCTS) for i in range(PRODUCTS)]
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT slug FROM product WHERE id = ANY(:ids) ORDER BY id"), {"ids": ids}
            )
            return [f"/products/{slug}" for (slug,) in rows]
    finally:
        engine.dispose()


def _groups(base: str, product_paths: list[str], reference: str) -> dict[str, list[str]]:
    return {
        "search": [f"{base}/search?{urlencode({'q': q})}" for q in SEARCHES],
        "category": [f"{base}/categories/{path}" for path in CATEGORIES],
        "category_filtered": [f"{base}/categories/{path}" for path in FILTERED_CATEGORIES],
        "suggest": [f"{base}/search/suggest?{urlencode({'q': q})}" for q in SUGGESTIONS],
        "product_page": [f"{base}{path}" for path in product_paths],
        "static_reference": [f"{base}{reference}"],
    }


def run(args: argparse.Namespace, workdir: Path, stops: contextlib.ExitStack) -> dict[str, Any]:
    bench = _prepare(args, workdir, stops)
    groups = _groups(
        bench.base_url,
        _product_paths(bench.settings.database_url, args.products),
        bench.reference_path,
    )
    log = workdir / "server.log"
    pid = _serve(bench, log, stops, args.workers)
    for urls in groups.values():  # every URL answers, before anything is timed
        for url in urls:
            httpx.get(url, headers=IDENTITY, timeout=30).raise_for_status()
    for urls in groups.values():
        _load(urls, WARMUP_REQUESTS, argparse.Namespace(**{**vars(args), "concurrency": 4}))
    loadavg_before = os.getloadavg()
    results: dict[str, dict[str, Any]] = {}
    for concurrency in args.concurrency:
        at = argparse.Namespace(**{**vars(args), "concurrency": concurrency})
        for name, urls in groups.items():
            figures = _load(urls, args.requests, at)
            if name in TARGETS:
                figures["target_p95_ms"] = TARGETS[name]
                figures["target_met"] = figures["p95_ms"] <= TARGETS[name]
            results.setdefault(f"concurrency {concurrency}", {})[name] = figures
    loadavg_after = os.getloadavg()
    return {
        "benchmark": "search_category",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain")),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "loadavg_before_after": [round(loadavg_before[0], 2), round(loadavg_after[0], 2)],
        "parameters": {**vars(args), "warmup_requests": WARMUP_REQUESTS},
        "load_tool": next(iter(results.values()))["search"]["tool"],
        "accept_encoding": "identity",
        "seed": vars(bench.seeded),
        "urls": {
            name: [url.removeprefix(bench.base_url) for url in urls]
            for name, urls in groups.items()
        },
        "results": results,
        "peak_rss_mb": _peak_rss_mb(pid),
    }


def _print_report(report: dict[str, Any]) -> None:
    keys = ("requests_per_s", "p50_ms", "p95_ms", "p99_ms", "errors", "requests")
    for level, groups in report["results"].items():
        print(f"\n{level:18}", *(f"{k.replace('_per_s', '/s'):>10}" for k in keys), " target p95")
        for name, figures in groups.items():
            target = ""
            if "target_p95_ms" in figures:
                met = "met" if figures["target_met"] else "NOT met"
                target = f"  <= {figures['target_p95_ms']} ms {met}"
            print(f"{name:18}", *(f"{figures[key]:>10}" for key in keys), target)
    before, after = report["loadavg_before_after"]
    parameters = report["parameters"]
    print(
        f"{parameters['products']} products, {parameters['workers']} hypercorn worker(s), "
        f"client {report['load_tool']}; load average (1 min) before/after: {before} / {after} "
        f"on {report['cpu_count']} CPUs"
    )
    print(f"worker peak RSS (VmHWM): {report['peak_rss_mb']['worker']} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000, help="per group of URLs")
    parser.add_argument(
        "--concurrency",
        type=lambda text: [int(level) for level in text.split(",")],
        default=[1, 4],
        help="connections, or several levels run one after the other (default 1,4)",
    )
    parser.add_argument("--workers", type=int, default=1, help="hypercorn workers (default 1)")
    parser.add_argument("--duration-limit", type=float, default=60, help="seconds per group")
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto")
    args = parser.parse_args()
    run_and_report(run, args, _print_report, RESULTS)


if __name__ == "__main__":
    main()
