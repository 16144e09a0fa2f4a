"""Rate-limit utilisation: how much of Avito's allowance a bulk job uses, and whether Avito ever says 429.

The gateway gets RATE_LIMIT_REQUESTS / RATE_LIMIT_WINDOW = 20 / 2 s and the sandbox enforces
the same limit as Avito would (a sliding window; 429 past it). Two Celery workers of
concurrency 4 send a 200-message bulk job. A thread polls the sandbox's counters every
20 ms, so the time of the first and the last accepted call are known to ~20 ms.

Under a perfect sliding-window limiter the first L calls go at once and each later L one
window after the previous L, so the last of N calls starts at (N/L - 1) x W after the
first: the achieved rate (N - L) / (t_last - t_first) is then exactly L / W. Utilisation is
that achieved rate divided by the configured L / W.

    .venv/bin/python -m bench.rate_limit_utilisation [--flavours postgres] [--messages 200] [--rounds 3]

Targets: utilisation at least 0.95; no 429 from the sandbox.
"""
from __future__ import annotations

import threading
import time
import uuid

import requests

from bench.avito_side import Sandbox
from bench.common import median, parse_stack_args, run_flavours, stack_parser, table
from bench.machine import CpuMeter, in_groups
from bench.processes import bench_stack, bulk_job_run, wait_workers_ready
from tests.e2e.stack import wait_until


def api_calls(stats: dict) -> int:
    return sum(n for operation, n in stats["requests"].items() if operation != "getAccessToken")


class CallClock:
    """Polls the sandbox's counters: (time, accepted API calls, 429s) every `interval` seconds."""

    def __init__(self, sandbox: Sandbox, interval: float = 0.02):
        self.sandbox, self.interval = sandbox, interval
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            stats = session.get(f"{self.sandbox.url}/_sandbox/stats", timeout=5).json()
            self.samples.append((time.monotonic(), api_calls(stats) - stats["rate_limited"], stats["rate_limited"]))
            self._stop.wait(self.interval)

    def __enter__(self) -> CallClock:
        self._thread.start()
        wait_until(lambda: self.samples, 10, "the first sandbox sample")
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def first_and_last(self) -> tuple[float, float, int, int]:
        """(time of the first new call, time the last one was seen, calls accepted, 429s) since the start."""
        base_calls, base_429 = self.samples[0][1], self.samples[0][2]
        final_calls, final_429 = self.samples[-1][1], self.samples[-1][2]
        first = next(t for t, calls, _ in self.samples if calls > base_calls)
        last = next(t for t, calls, _ in self.samples if calls == final_calls)
        return first, last, final_calls - base_calls, final_429 - base_429


def one_job(stack, chats: list[dict], messages: int, limit: int, window: float) -> dict:
    tag = uuid.uuid4().hex[:8]
    items = [{"chat_id": chats[i % len(chats)]["id"], "text": f"Скидка 10% до пятницы ({tag} #{i})"}
             for i in range(messages)]
    sandbox = Sandbox(stack.sandbox_url)
    with CallClock(sandbox) as clock:
        posted = time.monotonic()
        status = bulk_job_run(stack, items, timeout=60 + 3 * messages * window / limit, interval=0.2)
        done = time.monotonic()
        time.sleep(0.1)  # one more sample after the job reports completion
    first, last, calls, refused = clock.first_and_last()
    achieved = (calls - limit) / (last - first) if last > first and calls > limit else 0.0
    return {"messages": messages, "sent": status["sent"], "failed": status["failed"], "avito_calls": calls,
            "avito_429": refused, "first_to_last_call_s": round(last - first, 3),
            "ideal_first_to_last_s": round((calls / limit - 1) * window, 3),
            "job_s": round(done - posted, 2), "achieved_rate": round(achieved, 3),
            "utilisation": round(achieved / (limit / window), 3)}


def measure_flavour(flavour: str, args) -> dict:
    limit, window = args.limit, args.window
    stack = bench_stack(flavour, sandbox_args=("--rate", f"{limit}/{window:g}"), workers=args.workers,
                        worker_concurrency=args.concurrency,
                        extra_env={"RATE_LIMIT_REQUESTS": str(limit), "RATE_LIMIT_WINDOW": f"{window:g}", **args.env})
    runs = []
    try:
        stack.start(beat=False)
        for index in range(args.workers):
            wait_workers_ready(stack, f"worker{index}" if index else "worker")
        requests.get(f"{stack.base_url}/api/token", headers=stack.headers, timeout=30).raise_for_status()
        chats = Sandbox(stack.sandbox_url).chats()
        pgids = {process.pid for process in stack.processes.values()}
        for round_no in range(args.rounds):
            time.sleep(window + 0.5)  # start from an empty window, as any job after a pause does
            meter = CpuMeter({"stack": in_groups(*pgids)}).start()
            run = one_job(stack, chats, args.messages, limit, window)
            run["cpu"] = meter.stop()
            runs.append({"round": round_no, **run})
            print(f"  {flavour:8} round {round_no}: utilisation {run['utilisation']:.3f} "
                  f"({run['avito_calls']} calls, first to last {run['first_to_last_call_s']} s, ideal "
                  f"{run['ideal_first_to_last_s']} s), 429s {run['avito_429']}, sent {run['sent']}, "
                  f"failed {run['failed']}, others {run['cpu']['others_pct']}%", flush=True)
    finally:
        stack.stop()
        stack.cleanup()
    return {"flavour": flavour, "runs": runs,
            "summary": {"utilisation": median(r["utilisation"] for r in runs),
                        "utilisation_min": min(r["utilisation"] for r in runs),
                        "utilisation_max": max(r["utilisation"] for r in runs),
                        "avito_429": sum(r["avito_429"] for r in runs),
                        "failed": sum(r["failed"] for r in runs)}}


def print_summary(result: dict, args) -> None:
    rows = [[run["round"], run["avito_calls"], run["first_to_last_call_s"], run["ideal_first_to_last_s"],
             run["achieved_rate"], run["utilisation"], run["avito_429"], run["sent"], run["failed"], run["job_s"]]
            for run in result["runs"]]
    print(table(["round", "calls", "first-last s", "ideal s", "calls/s", "utilisation", "429s", "sent", "failed",
                 "job s"], rows,
                title=f"\n{result['flavour']}: {args.messages} messages at {args.limit}/{args.window:g} s, "
                      f"{args.workers} workers x {args.concurrency}"))
    ok = result["summary"]["utilisation"] >= 0.95 and result["summary"]["avito_429"] == 0
    print(f"target (utilisation >= 0.95, no 429): {'met' if ok else 'MISSED'}")


def main(argv=None) -> list[dict]:
    parser = stack_parser(__doc__, flavours="postgres")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--limit", type=int, default=20, help="calls per window, for the gateway and the sandbox")
    parser.add_argument("--window", type=float, default=2.0, help="seconds")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (each its own pool)")
    parser.add_argument("--concurrency", type=int, default=4, help="pool size of each worker")
    parser.add_argument("--rounds", type=int, default=3)
    args = parse_stack_args(parser, argv)
    return run_flavours("rate_limit_utilisation", args, measure_flavour, lambda result: print_summary(result, args))

if __name__ == "__main__":
    main()
