"""Bulk send under Avito's limit: how close the workers get to the ceiling, and whether Avito says 429.

The gateway is given RATE_LIMIT_REQUESTS / RATE_LIMIT_WINDOW and the sandbox enforces the
very same limit the way Avito would (429 past it), so every 429 the sandbox counts is a
call the gateway's shared limiter should not have let through. A job of N text messages
is posted while W Celery workers (each with its own pool) run; the time is taken from the
POST to the moment the job reports `completed`. The token is fetched first, as a running
gateway already has one. The ideal is (ceil(N / limit) - 1) x window seconds plus the
calls' own latency: 6 s for 40 messages at 10 per 2 s.

    .venv/bin/python -m bench.bulk_send [--flavours sqlite,postgres] [--messages 40] [--rate 10/2]
                                        [--workers 2] [--concurrency 2] [--rounds 3]

Target: 40 messages at 10 per 2 s with 2 workers well under 15 s, and no 429 from Avito.
"""
from __future__ import annotations

import argparse
import math
import time
import uuid

import requests

from bench.avito_side import Sandbox
from bench.common import save_results, table
from bench.machine import machine_info
from bench.processes import bench_stack, bulk_job_run, wait_workers_ready


def one_job(stack, chats: list[dict], messages: int) -> dict:
    sandbox = Sandbox(stack.sandbox_url)
    before = sandbox.stats()
    run = uuid.uuid4().hex[:8]
    items = [{"chat_id": chats[i % len(chats)]["id"], "text": f"bench {run} #{i}"} for i in range(messages)]
    started = time.monotonic()
    body = bulk_job_run(stack, items, timeout=300, interval=0.05)
    seconds = time.monotonic() - started
    after = sandbox.stats()
    return {"seconds": round(seconds, 2), "sent": body["sent"], "failed": body["failed"],
            "avito_429": after["rate_limited"] - before["rate_limited"], "avito_sends": after["sends"] - before["sends"]}


def measure_flavour(flavour: str, args) -> dict:
    limit, window = args.rate.split("/")
    stack = bench_stack(flavour, sandbox_args=("--rate", args.rate), workers=args.workers,
                        worker_concurrency=args.concurrency,
                        extra_env={"RATE_LIMIT_REQUESTS": limit, "RATE_LIMIT_WINDOW": window})
    runs = []
    try:
        stack.start(beat=False)
        for index in range(args.workers):
            wait_workers_ready(stack, f"worker{index}" if index else "worker")
        requests.get(f"{stack.base_url}/api/token", headers=stack.headers, timeout=30).raise_for_status()
        chats = Sandbox(stack.sandbox_url).chats()
        for round_no in range(args.rounds):
            time.sleep(float(window))  # an empty window to start from, like any job after a pause
            run = one_job(stack, chats, args.messages)
            runs.append({"round": round_no, **run})
            print(f"  {flavour:8} round {round_no}: {run}", flush=True)
    finally:
        stack.stop()
        stack.cleanup()
    return {"flavour": flavour, "runs": runs}


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flavours", default="sqlite,postgres")
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--rate", default="10/2", help="N/W: the gateway's limit and the sandbox's")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (each its own pool)")
    parser.add_argument("--concurrency", type=int, default=2, help="pool size of each worker")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    started, machine = time.time(), machine_info()
    limit, window = args.rate.split("/")
    ideal = (math.ceil(args.messages / int(limit)) - 1) * float(window)
    results = [measure_flavour(flavour, args) for flavour in args.flavours.split(",")]
    rows = [[r["flavour"], run["round"], run["seconds"], ideal, run["sent"], run["failed"], run["avito_429"]]
            for r in results for run in r["runs"]]
    print(table(["flavour", "round", "seconds", "ideal s", "sent", "failed", "429 from Avito"], rows,
                title=f"\n{args.messages} messages at {args.rate} with {args.workers} workers x {args.concurrency}"))
    worst = max(run["seconds"] for r in results for run in r["runs"])
    refused = sum(run["avito_429"] for r in results for run in r["runs"])
    print(f"target (every run < 15 s, no 429): {'met' if worst < 15 and refused == 0 else 'MISSED'}")
    save_results("bulk_send", {"settings": vars(args), "ideal_s": ideal, "flavours": results}, started=started,
                 machine_before=machine)
    return results


if __name__ == "__main__":
    main()
