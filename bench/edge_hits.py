"""The hit ratio part of bench/edge.py: browse passes counted by varnishstat, and a cache warmer.

A pass is measured from varnishstat deltas. Varnish's worker threads fold their counters into
the totals lazily, so every reading waits until the pass's requests are all counted and the
counters stand still. Personal requests (/fragments/me) are passes (MAIN.s_pass), not lookups:
the ratio is cache_hit / (cache_hit + cache_miss + cache_hitmiss), and they are outside it.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.devstack.varnish import LocalVarnish
from bench.load import run_wrk

ZIPF_S = 1.1
PERSONAL_SHARE = 0.05
PERSONAL_PATH = "/fragments/me"
COUNTERS = ("client_req", "cache_hit", "cache_hitmiss", "cache_miss", "s_pass", "cache_hit_grace")
LOC = re.compile(r"<loc>([^<]+)</loc>")


def browse_mix(slugs: list[str], categories: list[str], n: int, rng: random.Random) -> list[str]:
    weights = [1 / (rank**ZIPF_S) for rank in range(1, len(slugs) + 1)]
    products = rng.choices(slugs, weights=weights, k=n)
    paths = []
    for slug in products:
        roll = rng.random()
        if roll < PERSONAL_SHARE:
            paths.append(PERSONAL_PATH)
        elif roll < PERSONAL_SHARE + 0.10:
            paths.append(f"/categories/{rng.choice(categories)}")
        elif roll < PERSONAL_SHARE + 0.12:
            paths.append("/")
        else:
            paths.append(f"/products/{slug}")
    return paths


def varnishstat(varnish: LocalVarnish) -> dict[str, int]:
    out = subprocess.run(
        ["varnishstat", "-1", "-j", "-n", str(varnish.directory / "state")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    data = json.loads(out.stdout)
    counters = data.get("counters", data)
    return {name: int(counters[f"MAIN.{name}"]["value"]) for name in COUNTERS}


def settled(varnish: LocalVarnish, since: dict[str, int], requests: int) -> dict[str, int]:
    """varnishstat once `requests` more client requests than in `since` are counted and two
    readings 0.3 s apart agree (answers wrk had in flight when it stopped are counted too)."""
    deadline = time.monotonic() + 15
    last = varnishstat(varnish)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = varnishstat(varnish)
        if now["client_req"] - since["client_req"] >= requests and now == last:
            return now
        last = now
    return last


def measured_pass(
    varnish: LocalVarnish, edge: str, paths: list[str], already: set[str], concurrency: int,
    limit: float,
) -> dict[str, Any]:  # fmt: skip
    """One browse pass with its counters. `new_urls` counts the cacheable URLs the edge cannot
    have seen before this pass (not in `already`): the misses a warm cache still takes."""
    before = settled(varnish, varnishstat(varnish), 0)
    run = run_wrk([edge + p for p in paths], len(paths), concurrency, limit)
    after = settled(varnish, before, run["requests"])
    delta = {name: after[name] - before[name] for name in COUNTERS}
    lookups = delta["cache_hit"] + delta["cache_miss"] + delta["cache_hitmiss"]
    new_urls = {p for p in paths if p != PERSONAL_PATH} - already
    already.update(paths)
    return {
        "requests": run["requests"],
        "ratio": round(delta["cache_hit"] / lookups, 4) if lookups else 0.0,
        "lookups": lookups,
        "personal_requests": paths.count(PERSONAL_PATH),
        "new_urls": len(new_urls),
        "counters": delta,
        "run": run,
    }


def sitemap_paths(edge: str) -> list[str]:
    """Every page the sitemaps list (the index, then each file), as paths on the edge; the home
    page first. What a deploy's cache warmer requests."""
    with httpx.Client(base_url=edge, timeout=30, headers={"Accept-Encoding": "identity"}) as http:
        index = http.get("/sitemap.xml").raise_for_status().text
        paths = ["/"]
        for file in LOC.findall(index):
            text = http.get(urlsplit(file).path).raise_for_status().text
            paths += [urlsplit(url).path for url in LOC.findall(text)]
    return list(dict.fromkeys(paths))
