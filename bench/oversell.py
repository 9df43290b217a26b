"""Hundreds of buyers race for the last units of one variant through the real HTTP endpoints.

    .venv/bin/python -m bench.oversell [--buyers 500] [--units 50] [--runs 3] [--workers 2]

A private PostgreSQL and Redis, a small seeded catalog, hypercorn. Each run: one variant gets
`--units` on hand; `--buyers` visitors each put one in a cart and walk the checkout to the
review page (not timed); then all press place-order at once. Checked after every run, from the
database: orders holding the variant, units reserved, never more than on hand; every answer
either an order (303) or the "no longer available" page (422); no 5xx. Prints each run and
writes bench/results/oversell.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from app.settings import PROJECT_ROOT
from bench.buyers import close_all, place, prepare_many
from bench.product_page import _git, _prepare, _serve, run_and_report

RESULTS = PROJECT_ROOT / "bench" / "results" / "oversell.json"


def _sql(database_url: str, statement: str, **params: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()


def _pick_variant(database_url: str) -> int:
    [(variant_id,)] = _sql(database_url, "SELECT min(id) FROM product_variant")
    return int(variant_id)


def _stock(database_url: str, variant_id: int, units: int) -> None:
    statement = "UPDATE stock_level SET on_hand = :units, reserved = 0 WHERE variant_id = :v"
    _sql(database_url, statement, units=units, v=variant_id)


def _check(database_url: str, variant_id: int) -> dict[str, int]:
    [(on_hand, reserved)] = _sql(
        database_url,
        "SELECT sum(on_hand), sum(reserved) FROM stock_level WHERE variant_id = :v",
        v=variant_id,
    )
    [(orders, units)] = _sql(
        database_url,
        "SELECT count(DISTINCT o.id), coalesce(sum(l.quantity), 0) FROM shop_order o "
        "JOIN order_line l ON l.order_id = o.id WHERE l.variant_id = :v "
        "AND o.status = 'pending_payment'",
        v=variant_id,
    )
    return {"on_hand": int(on_hand), "reserved": int(reserved), "orders": int(orders),
            "units_ordered": int(units)}  # fmt: skip


async def _race(base_url: str, variant_id: int, buyers: int) -> dict[str, Any]:
    ready = await prepare_many(base_url, [variant_id] * buyers)
    try:
        outcomes = await asyncio.gather(*(place(buyer) for buyer in ready))
    finally:
        await close_all(ready)
    statuses = Counter(outcome.status for outcome in outcomes)
    times = sorted(outcome.seconds * 1000 for outcome in outcomes)
    return {
        "placed": sum(outcome.placed for outcome in outcomes),
        "told_sold_out": sum(outcome.sold_out for outcome in outcomes),
        "statuses": {str(code): n for code, n in sorted(statuses.items())},
        "errors_5xx": sum(n for code, n in statuses.items() if code >= 500),
        "p50_ms": round(times[len(times) // 2], 1),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 1),
    }


def run(args: argparse.Namespace, workdir: Path, stops: contextlib.ExitStack) -> dict[str, Any]:
    bench = _prepare(args, workdir, stops)
    url = bench.settings.database_url
    _serve(bench, workdir / "server.log", stops, args.workers)
    variant_id = _pick_variant(url)
    runs = []
    for number in range(1, args.runs + 1):
        _sql(url, "DELETE FROM cart")
        _stock(url, variant_id, args.units)
        before = _check(url, variant_id)["orders"]
        race = asyncio.run(_race(bench.base_url, variant_id, args.buyers))
        after = _check(url, variant_id)
        run_orders = after["orders"] - before
        race.update(
            run=number, units=args.units, buyers=args.buyers, orders_holding_stock=run_orders,
            reserved=after["reserved"], on_hand=after["on_hand"],
            oversold=max(0, after["reserved"] - after["on_hand"]),
            exact=(run_orders == race["placed"] == after["reserved"] == args.units
                   and race["placed"] + race["told_sold_out"] == args.buyers
                   and race["errors_5xx"] == 0),
        )  # fmt: skip
        print(_line(race), flush=True)
        # Free the units for the next run: these orders are never paid.
        _sql(url, "UPDATE stock_reservation SET status = 'released' WHERE status = 'held'")
        runs.append(race)
    return {
        "benchmark": "oversell",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD"),
        "cpu_count": os.cpu_count(),
        "loadavg": round(os.getloadavg()[0], 2),
        "parameters": vars(args),
        "runs": runs,
    }


def _line(race: dict[str, Any]) -> str:
    return (
        f"run {race['run']}: {race['buyers']} buyers for {race['units']} units -> "
        f"{race['placed']} orders, {race['told_sold_out']} told sold out, "
        f"{race['errors_5xx']} 5xx, reserved {race['reserved']}/{race['on_hand']} on hand, "
        f"oversold {race['oversold']}, statuses {race['statuses']}, "
        f"place-order p50 {race['p50_ms']} ms p99 {race['p99_ms']} ms -> "
        f"{'exact' if race['exact'] else 'NOT EXACT'}"
    )


def _print_report(report: dict[str, Any]) -> None:
    exact = sum(run["exact"] for run in report["runs"])
    print(f"{exact} of {len(report['runs'])} runs exact; load average {report['loadavg']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=500)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="hypercorn workers")
    parser.add_argument("--products", type=int, default=200, help="demo catalog size")
    args = parser.parse_args()
    run_and_report(run, args, _print_report, RESULTS)


if __name__ == "__main__":
    main()
