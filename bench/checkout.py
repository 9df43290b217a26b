"""Sustained place-order throughput through the real HTTP endpoints.

    .venv/bin/python -m bench.checkout [--orders 600] [--concurrency 16] [--workers 2]

A private PostgreSQL and Redis, a seeded catalog, hypercorn. `--orders` buyers each fill a cart
and walk to the review page (not timed). Then they place their orders with `--concurrency` at
a time, in two rounds: spread over many SKUs, then all on one hot SKU (row-lock contention on
one stock row). Prints orders/s and place-order p50/p99 per round, beside a static-file
reference measured in the same run, and writes bench/results/checkout.json. The aim in the
issue: 150 orders/s or more.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.settings import PROJECT_ROOT
from bench.buyers import ReadyBuyer, close_all, place, prepare_many
from bench.oversell import _sql
from bench.product_page import IDENTITY, _git, _load, _prepare, _serve, run_and_report

RESULTS = PROJECT_ROOT / "bench" / "results" / "checkout.json"
AIM_ORDERS_PER_S = 150


async def _round(ready: list[ReadyBuyer], concurrency: int) -> dict[str, Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(buyer: ReadyBuyer) -> Any:
        async with gate:
            return await place(buyer)

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one(buyer) for buyer in ready))
    elapsed = time.perf_counter() - started
    times = sorted(outcome.seconds * 1000 for outcome in outcomes)
    placed = sum(outcome.placed for outcome in outcomes)
    return {
        "orders": placed,
        "failed": len(outcomes) - placed,
        "seconds": round(elapsed, 2),
        "orders_per_s": round(placed / elapsed, 1),
        "p50_ms": round(times[len(times) // 2], 1),
        "p99_ms": round(times[max(0, int(len(times) * 0.99) - 1)], 1),
    }


async def _measure(base_url: str, variant_ids: list[int], concurrency: int) -> dict[str, Any]:
    ready = await prepare_many(base_url, variant_ids)
    try:
        return await _round(ready, concurrency)
    finally:
        await close_all(ready)


def run(args: argparse.Namespace, workdir: Path, stops: contextlib.ExitStack) -> dict[str, Any]:
    bench = _prepare(args, workdir, stops)
    url = bench.settings.database_url
    _serve(bench, workdir / "server.log", stops, args.workers)
    # Plenty of stock everywhere, so every order can be placed.
    _sql(url, "UPDATE stock_level SET on_hand = 100000, reserved = 0")
    spread = [v for (v,) in _sql(url, "SELECT id FROM product_variant ORDER BY id LIMIT :n",
                                  n=args.orders)]  # fmt: skip
    hot = [spread[0]] * args.orders
    results = {
        "many SKUs": asyncio.run(_measure(bench.base_url, spread, args.concurrency)),
        "one hot SKU": asyncio.run(_measure(bench.base_url, hot, args.concurrency)),
    }
    reference = _load([f"{bench.base_url}{bench.reference_path}"], 2000,
                      argparse.Namespace(**{**vars(args), "concurrency": args.concurrency,
                                            "duration_limit": 30, "client": "auto"}))  # fmt: skip
    return {
        "benchmark": "checkout",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD"),
        "cpu_count": os.cpu_count(),
        "loadavg": round(os.getloadavg()[0], 2),
        "parameters": vars(args),
        "accept_encoding": IDENTITY["Accept-Encoding"],
        "rounds": results,
        "static_reference": reference,
    }


def _print_report(report: dict[str, Any]) -> None:
    for name, figures in report["rounds"].items():
        aim = "met" if figures["orders_per_s"] >= AIM_ORDERS_PER_S else "NOT met"
        print(f"{name:12} {figures['orders']} orders ({figures['failed']} failed) in "
              f"{figures['seconds']} s: {figures['orders_per_s']} orders/s "
              f"(aim {AIM_ORDERS_PER_S}: {aim}), place-order p50 {figures['p50_ms']} ms, "
              f"p99 {figures['p99_ms']} ms")  # fmt: skip
    ref = report["static_reference"]
    print(f"static reference: {ref['requests_per_s']} req/s, p50 {ref['p50_ms']} ms; "
          f"{report['parameters']['workers']} hypercorn workers, load average "
          f"{report['loadavg']} on {report['cpu_count']} CPUs")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=600, help="orders per round")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="hypercorn workers")
    parser.add_argument("--products", type=int, default=1000, help="demo catalog size")
    args = parser.parse_args()
    run_and_report(run, args, _print_report, RESULTS)


if __name__ == "__main__":
    main()
