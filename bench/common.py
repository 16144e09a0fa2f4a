"""The load generator of the benchmarks, their statistics, their tables and their result files.

`run_load` drives N concurrent senders, each on its own keep-alive connection, from one
asyncio loop: a small HTTP/1.1 client costs far less CPU per request than `requests` or
`http.client`, and on a 2-core machine every cycle the generator burns is taken from the
server it measures. Each sender sends its next request as soon as the previous answer is
in (a closed loop), so throughput is what the server sustains at that concurrency and the
latencies are per request, from the first byte written to the last byte read.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.machine import machine_info

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REQUEST_TIMEOUT = 30.0


@dataclass
class Call:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadResult:
    senders: int
    seconds: float
    latencies: list[float] = field(default_factory=list)  # seconds, of the answers with an expected status
    statuses: Counter = field(default_factory=Counter)
    failures: int = 0  # broken connections and timeouts
    answered: int = 0  # every answer, warm-up included (to divide CPU time measured around the whole run)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return self.failures + sum(self.statuses.values()) - self.ok

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000

    def summary(self) -> dict:
        return {"senders": self.senders, "seconds": round(self.seconds, 3), "requests": self.ok,
                "errors": self.errors, "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "rps": round(self.rps, 1), "p50_ms": round(self.percentile_ms(50), 2),
                "p90_ms": round(self.percentile_ms(90), 2), "p99_ms": round(self.percentile_ms(99), 2),
                "max_ms": round(max(self.latencies, default=0) * 1000, 2)}


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (p in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def median(values: Iterable[float]) -> float:
    return percentile(list(values), 50)


def run_load(base_url: str, make_call: Callable[[int], Call], *, senders: int, seconds: float | None = None,
             total: int | None = None, warmup: float = 1.0, expect: tuple[int, ...] = (200,)) -> LoadResult:
    """Send `make_call(i)` for i = 0, 1, ... from `senders` connections.

    For `seconds` (after `warmup` seconds whose answers are not counted), or until `total`
    requests have been answered (all counted, no warm-up).
    """
    assert (seconds is None) != (total is None), "give seconds or total"
    return asyncio.run(_load(base_url, make_call, senders, seconds, total, 0.0 if total else warmup, expect))


async def _load(base_url, make_call, senders, seconds, total, warmup, expect) -> LoadResult:
    parts = urlsplit(base_url)
    host, port = parts.hostname, parts.port or 80
    result = LoadResult(senders=senders, seconds=0.0)
    counter = itertools.count()
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds if seconds else math.inf

    async def sender():
        reader = writer = None
        while time.perf_counter() < stop_at:
            index = next(counter)
            if total is not None and index >= total:
                break
            call = make_call(index)
            raw = _request_bytes(call, host, port)
            sent_at = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    writer.write(raw)
                    status, keep_alive = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                if sent_at >= measure_from:
                    result.failures += 1
                writer = _close(writer)
                continue
            done_at = time.perf_counter()
            result.answered += 1
            if measure_from <= sent_at and done_at <= stop_at:
                result.statuses[status] += 1
                if status in expect:
                    result.latencies.append(done_at - sent_at)
            if not keep_alive:
                writer = _close(writer)
        _close(writer)

    await asyncio.gather(*(sender() for _ in range(senders)))
    result.seconds = (stop_at if seconds else time.perf_counter()) - measure_from
    return result


def _close(writer):
    if writer is not None:
        writer.close()


def _request_bytes(call: Call, host: str, port: int) -> bytes:
    lines = [f"{call.method} {call.path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(call.body)}"]
    lines += [f"{name}: {value}" for name, value in call.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + call.body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one whole answer; returns its status and whether the connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection") != "close"


# --- output ---------------------------------------------------------------------------------
def table(headers: list[str], rows: list[list], title: str = "") -> str:
    """A plain-text table, numbers right-aligned; printed by every benchmark."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) if cells else len(str(h))
              for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], (int, float)) for row in rows) for i in range(len(headers))]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric))

    out = [title] if title else []
    out += [line([str(h) for h in headers]), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def save_results(name: str, data: dict, *, started: float, machine_before: dict) -> Path:
    """Write bench/results/<name>.json: the figures, the machine and how busy it was."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    document = {"benchmark": name, "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
                "duration_s": round(time.time() - started, 1), "machine": machine_before,
                "load_after": machine_info()["loadavg"], **data}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults: {path}")
    return path


def stack_parser(description: str, *, flavours: str) -> argparse.ArgumentParser:
    """The options every benchmark shares: which stacks to start, and extra environment for them."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flavours", default=flavours)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an extra environment variable for every process of the stack (repeatable)")
    return parser


def parse_stack_args(parser: argparse.ArgumentParser, argv) -> argparse.Namespace:
    """Parse, turn `--env` into a dict, and make SIGTERM stop the stacks cleanly."""
    args = parser.parse_args(argv)
    args.env = dict(item.split("=", 1) for item in args.env)
    exit_cleanly_on_sigterm()
    return args


def run_flavours(name: str, args: argparse.Namespace, measure: Callable[[str, argparse.Namespace], dict],
                 summarize: Callable[[dict], None]) -> list[dict]:
    """Measure each flavour in turn, print its summary as soon as it is known, save them all."""
    started, machine = time.time(), machine_info()
    results = []
    for flavour in args.flavours.split(","):
        results.append(measure(flavour, args))
        summarize(results[-1])
    save_results(name, {"settings": vars(args), "flavours": results}, started=started, machine_before=machine)
    return results


def exit_cleanly_on_sigterm() -> None:
    """SIGTERM (a `timeout`, a CI stop) unwinds like Ctrl-C, so every started stack is stopped and dropped."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def prime(base_url: str, make_call: Callable[[int], Call], *, seconds: float = 2.0, senders: int = 16) -> None:
    """Warm every server process before measuring: each request on a new connection (`Connection:
    close`), so the accepts spread over all of gunicorn's workers and each loads its code once."""
    def closing(index: int) -> Call:
        call = make_call(index)
        return Call(call.method, call.path, call.body, {**call.headers, "Connection": "close"})
    run_load(base_url, closing, senders=senders, seconds=seconds, warmup=0, expect=tuple(range(100, 600)))
