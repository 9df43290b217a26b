"""Bounded HTTP load against one URL, from a process of its own: wrk if installed, else httpx.

`python -m bench.load URL --requests N --concurrency C --duration S` stops after N responses or
S seconds, whichever comes first, and prints one JSON line: tool, requests, seconds,
requests_per_s, p50_ms, p95_ms, p99_ms, errors (non-2xx responses plus connection errors and
timeouts). Given several URLs (same host), the requests go to them in turn.
Every request asks for `Accept-Encoding: identity`, so bodies travel uncompressed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

HEADERS = {"Accept-Encoding": "identity"}

# One wrk thread: its Lua counter then bounds the requests (answers already in flight can add
# up to C more), and the other core stays free for the server. wrk itself always sleeps for the
# whole -d, so the script times the run with a monotonic clock and says LIMIT, and we interrupt
# wrk at that point.
WRK_SCRIPT = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local function now()
  local ts = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end
local threads = {}
wrk.headers["Accept-Encoding"] = "identity"
limit, count, bad, first, last = 0, 0, 0, 0, 0
function setup(thread) table.insert(threads, thread) end
function init(args) limit = tonumber(args[1]); first = now(); last = first end
function response(status, headers, body)
  count = count + 1
  last = now()
  if status < 200 or status > 299 then bad = bad + 1 end
  if count == limit then io.write("LIMIT\\n"); io.flush(); wrk.thread:stop() end
end
function done(summary, latency, requests)
  local t = threads[1]
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.6f, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"errors": %d}\\n',
    t:get("count"), t:get("last") - t:get("first"), latency:percentile(50),
    latency:percentile(95), latency:percentile(99),
    t:get("bad") + e.connect + e.read + e.write + e.timeout))
end
"""


def _figures(tool: str, requests: int, seconds: float, p50_ms: float, p95_ms: float,
             p99_ms: float, errors: int) -> dict[str, Any]:  # fmt: skip
    return {
        "tool": tool,
        "requests": requests,
        "seconds": round(seconds, 3),
        "requests_per_s": round(requests / seconds, 1) if seconds > 0 else 0.0,
        "p50_ms": round(p50_ms, 2),
        "p95_ms": round(p95_ms, 2),
        "p99_ms": round(p99_ms, 2),
        "errors": errors,
    }


def _rotation(urls: list[str]) -> str:
    """Lua that sends each request to the next of `urls`' paths (wrk connects to the first's
    host). Empty for one URL: wrk then sends its own request, as before."""
    if len(urls) == 1:
        return ""
    paths = []
    for url in urls:
        parts = urlsplit(url)
        paths.append(json.dumps(parts.path + (f"?{parts.query}" if parts.query else "")))
    return (
        f"local paths = {{{', '.join(paths)}}}\nlocal turn = 0\n"
        "function request()\n  turn = turn % #paths + 1\n"
        '  return wrk.format("GET", paths[turn])\nend\n'
    )


def run_wrk(urls: list[str], requests: int, concurrency: int, duration: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="edgecart-wrk-") as directory:
        script = Path(directory) / "bounded.lua"
        script.write_text(WRK_SCRIPT + _rotation(urls))
        command = [
            "wrk", "-t", "1", "-c", str(concurrency), "-d", f"{max(1, round(duration))}s",
            "--timeout", "10s", "-s", str(script), urls[0], "--", str(requests),
        ]  # fmt: skip
        wrk = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert wrk.stdout is not None
        lines = []
        for line in wrk.stdout:
            lines.append(line)
            if line.startswith("LIMIT"):
                # The signal may land on wrk's worker thread while it winds down: repeat it.
                while wrk.poll() is None:
                    wrk.send_signal(signal.SIGINT)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        wrk.wait(0.2)
        wrk.wait(duration + 10)
    result = [line for line in lines if line.startswith("RESULT ")]
    if wrk.returncode != 0 or not result:
        raise RuntimeError(f"wrk failed ({wrk.returncode}):\n{''.join(lines)}")
    raw = json.loads(result[-1].removeprefix("RESULT "))
    return _figures(
        "wrk", raw["requests"], raw["seconds"], raw["p50_us"] / 1000, raw["p95_us"] / 1000,
        raw["p99_us"] / 1000, raw["errors"],
    )  # fmt: skip


async def run_httpx(
    urls: list[str], requests: int, concurrency: int, duration: float
) -> dict[str, Any]:
    latencies: list[float] = []  # seconds, of every answered request
    errors = failures = 0  # non-2xx answers; requests that got no answer
    started = time.perf_counter()
    deadline = started + duration
    remaining = requests

    async def user(client: httpx.AsyncClient) -> None:
        nonlocal errors, failures, remaining
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            sent = time.perf_counter()
            try:
                response = await client.get(urls[remaining % len(urls)])
                if not 200 <= response.status_code <= 299:
                    errors += 1
            except httpx.HTTPError:
                failures += 1
                continue
            latencies.append(time.perf_counter() - sent)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=HEADERS, limits=limits, timeout=10) as client:
        await asyncio.gather(*(user(client) for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    answered = len(latencies)
    return _figures(
        "httpx", answered + failures, seconds, percentile(0.5), percentile(0.95),
        percentile(0.99), errors + failures,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="+", help="one URL, or several on one host to take turns")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=30, help="time limit in seconds")
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto")
    args = parser.parse_args()
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    if use_wrk:
        figures = run_wrk(args.url, args.requests, args.concurrency, args.duration)
    else:
        figures = asyncio.run(run_httpx(args.url, args.requests, args.concurrency, args.duration))
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
