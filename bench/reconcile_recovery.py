"""Reconciliation's recovery: how long it takes to find N missed messages across M chats at the
default Avito limit, and what it costs in calls.

One stack (RATE_LIMIT_REQUESTS=100 per 60 s, the default, enforced by the sandbox with 429s;
RECONCILE_INTERVAL=10 unless `--interval`), a sandbox of 300 chats the gateway already knows.
For each case N/M the sandbox writes N customer messages round-robin over M chats at 10 a second
without notifying the gateway (as when web is down: every notification of the burst missed),
then the n8n stand-in is watched until all N have arrived. Reported: seconds from the last
message written to the last delivered, the reconciliation runs and calls that took (from
`GET /api/reconcile/runs`), calls per message, 429s from the sandbox, and duplicates.

    .venv/bin/python -m bench.reconcile_recovery [--flavours sqlite,postgres] [--cases 100/100,300/300,600/300]

No target: the figures go to docs/benchmarks.md. With M chats each needing a read after an
outage, the floor is about M / 75 minutes (75 of the 100 calls a minute are reconciliation's
at most; a quarter is kept for sends).
"""
from __future__ import annotations

import time
import uuid
from collections import Counter

import requests

from bench.common import parse_stack_args, run_flavours, stack_parser, table
from bench.processes import bench_stack
from tests.e2e.n8n_standin import N8nStandIn
from tests.e2e.stack import wait_until

CHATS = 300


def api(stack, method: str, path: str, **kwargs) -> requests.Response:
    answer = requests.request(method, stack.base_url + path, headers=stack.headers, timeout=60, **kwargs)
    answer.raise_for_status()
    return answer


def known_chats(stack) -> list[str]:
    """The u2i chats, listed through the gateway once (which stores them, as a running shop's are)."""
    return [chat["id"] for offset in range(0, CHATS, 100) for chat in api(
        stack, "GET", "/api/chats", params={"limit": 100, "offset": offset, "chat_types": "u2i"}).json()["chats"]]


def runs(stack) -> list[dict]:
    return api(stack, "GET", "/api/reconcile/runs", params={"limit": 100}).json()["runs"]


def one_case(stack, n8n, chats: list[str], messages: int, spread: int, timeout: float) -> dict:
    after = max((run["id"] for run in runs(stack)), default=0)
    refused_before = requests.get(f"{stack.sandbox_url}/_sandbox/stats", timeout=10).json()["rate_limited"]
    written, start = [], time.monotonic()
    for index in range(messages):  # 10 a second, as the outage
        time.sleep(max(0.0, start + index / 10 - time.monotonic()))
        answer = requests.post(f"{stack.sandbox_url}/_sandbox/messages", timeout=30, json={
            "chat_id": chats[index % spread], "text": f"Пока шлюз лежал {uuid.uuid4().hex[:6]}", "notify": False})
        written.append(answer.json()["message"]["id"])
    last_written = time.monotonic()

    def arrived() -> Counter:
        return Counter(body["meta"]["external_message_id"] for body in n8n.bodies())

    wait_until(lambda: all(arrived()[mid] for mid in written), timeout, f"{messages} missed messages", interval=0.5)
    recovered = time.monotonic() - last_written
    time.sleep(15)  # the window's run records its calls as it finishes; a duplicate would show by now
    counts = arrived()
    done = [run for run in runs(stack) if run["id"] > after]
    calls = sum(run["calls"] for run in done)
    return {"messages": messages, "chats": spread, "recovered_s": round(recovered, 1),
            "runs": len(done), "runs_budget": sum(run["outcome"] == "budget" for run in done),
            "calls": calls, "calls_per_message": round(calls / messages, 2),
            "duplicates": sum(counts[mid] - 1 for mid in written if counts[mid] > 1),
            "avito_429": requests.get(f"{stack.sandbox_url}/_sandbox/stats", timeout=10).json()["rate_limited"]
            - refused_before}


def measure_flavour(flavour: str, args) -> dict:
    n8n = N8nStandIn().start()
    stack = bench_stack(flavour, n8n_url=n8n.url, sandbox_args=("--rate", "100/60", "--chats", str(CHATS)),
                        extra_env={"RATE_LIMIT_REQUESTS": "100", "RATE_LIMIT_WINDOW": "60",
                                   "RECONCILE_INTERVAL": str(args.interval), **args.env})
    cases = []
    try:
        stack.start(beat=False)
        api(stack, "POST", "/api/webhook/subscribe", json={})
        chats = known_chats(stack)
        stack.start_beat()
        wait_until(lambda: runs(stack), 90, "the first reconciliation run")
        for case in args.cases.split(","):
            messages, spread = (int(part) for part in case.split("/"))
            time.sleep(65)  # an empty call window, as after a quiet minute
            result = one_case(stack, n8n, chats, messages, min(spread, len(chats)), args.timeout)
            cases.append(result)
            print(f"  {flavour:8} N={messages} M={spread}: recovered in {result['recovered_s']} s, "
                  f"{result['calls']} calls in {result['runs']} runs, 429s {result['avito_429']}, "
                  f"duplicates {result['duplicates']}", flush=True)
    finally:
        stack.stop()
        stack.cleanup()
        n8n.stop()
    return {"flavour": flavour, "cases": cases}


def print_summary(result: dict) -> None:
    rows = [[case["messages"], case["chats"], case["recovered_s"], case["runs"], case["runs_budget"], case["calls"],
             case["calls_per_message"], case["avito_429"], case["duplicates"]] for case in result["cases"]]
    print(table(["N messages", "M chats", "recovered s", "runs", "of them budget", "calls", "calls/message", "429s",
                 "duplicates"], rows, title=f"\n{result['flavour']}: missed messages found by reconciliation"))


def main(argv=None) -> list[dict]:
    parser = stack_parser(__doc__, flavours="sqlite")
    parser.add_argument("--cases", default="100/100,300/300,600/300", help="N/M, comma-separated")
    parser.add_argument("--interval", type=int, default=10, help="RECONCILE_INTERVAL, seconds")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for one case")
    args = parse_stack_args(parser, argv)
    return run_flavours("reconcile_recovery", args, measure_flavour, print_summary)


if __name__ == "__main__":
    main()
