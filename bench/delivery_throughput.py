"""Delivery throughput: events per second delivered to an n8n stand-in by 1, 2 and 4 worker processes.

For each process count, a backlog of customer messages (Avito's notifications about the
sandbox's real chats, every message id new) is posted to `/webhook/avito/<secret>` while
no worker runs; then one Celery worker with that many processes (`--concurrency`) starts
and drains it: each event is processed (stored, normalized) and delivered, signed, to
the stand-in. The rate is the events over the time from the worker's "ready" to the last
delivery the stand-in receives (the worker's start-up is left out, the processing of the
first events is not); duplicates (one webhook-id twice) are counted. The rate between the
first and the last delivery is given too: it leaves out the processing done before the
first delivery, so it flatters a worker that processes every event before delivering any.

    .venv/bin/python -m bench.delivery_throughput [--flavours postgres,sqlite] [--events 2000]

Targets: the rate grows with the processes; at least 200 events/s with 2 on 2 cores.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter

from bench.avito_side import Sandbox, customer_of, notification_body
from bench.common import (
    Call,
    parse_stack_args,
    run_flavours,
    run_load,
    stack_parser,
    table,
)
from bench.machine import CpuMeter, in_groups
from bench.processes import bench_stack, service_meters, wait_workers_ready
from tests.e2e.n8n_standin import N8nStandIn
from tests.e2e.stack import wait_until

HEADERS = {"Content-Type": "application/json"}


def backlog(stack, chats: list[dict], prefix: str, count: int) -> None:
    path = f"/webhook/avito/{stack.webhook_secret}"

    def make_call(index: int) -> Call:
        chat = chats[index % len(chats)]
        author, item = customer_of(chat)
        body = notification_body(message_id=f"{prefix}{index:08d}", chat_id=chat["id"], author_id=author,
                                 item_id=item or 0)
        return Call("POST", path, body, HEADERS)

    result = run_load(stack.base_url, make_call, senders=16, total=count)
    if result.ok != count:
        raise RuntimeError(f"only {result.ok} of {count} notifications were accepted: {dict(result.statuses)}")


class Tally:
    """The stand-in's deliveries of one run (their message ids carry its prefix), scanned as they come."""

    def __init__(self, n8n: N8nStandIn, prefix: str):
        self.n8n, self.marker, self.seen, self.items = n8n, f'"{prefix}'.encode(), 0, []

    def count(self) -> int:
        with self.n8n.lock:
            new = self.n8n.received[self.seen:]
        self.seen += len(new)
        self.items += [item for item in new if self.marker in item.body]
        return len(self.items)


def drain(stack, n8n: N8nStandIn, chats: list[dict], processes: int, events: int, timeout: float) -> dict:
    prefix = f"d{uuid.uuid4().hex[:10]}-"
    backlog(stack, chats, prefix, events)
    name = f"worker-c{processes}"
    stack.worker_concurrency = processes
    started = time.monotonic()
    meter = CpuMeter({"worker": in_groups(stack.start_worker(name).pid), **service_meters(stack)}).start()
    wait_workers_ready(stack, name)
    ready = time.monotonic()
    tally = Tally(n8n, prefix)
    wait_until(lambda: tally.count() >= events, timeout, f"{events} deliveries", interval=0.25)
    cpu = meter.stop()
    stack.stop_worker(name)
    tally.count()
    delivered = tally.items
    times = sorted(item.at for item in delivered)
    ids = Counter(item.headers["webhook-id"] for item in delivered)
    span = times[-1] - times[0]
    return {"processes": processes, "events": events, "delivered": len(delivered),
            "duplicates": sum(n - 1 for n in ids.values()), "rate": round(len(times) / (times[-1] - ready), 1),
            "delivery_phase_rate": round((len(times) - 1) / span, 1),
            "first_delivery_after_ready_s": round(times[0] - ready, 2), "worker_start_s": round(ready - started, 2),
            "drain_s": round(times[-1] - ready, 2), "cpu": cpu,
            "cpu_ms_per_event": {k: round(1000 * v / events, 3) for k, v in cpu["cpu_s"].items()}}


def measure_flavour(flavour: str, args) -> dict:
    n8n = N8nStandIn().start()
    stack = bench_stack(flavour, n8n_url=n8n.url, extra_env=args.env)
    runs = []
    try:
        stack.start(web=True, worker=False, beat=False)
        chats = Sandbox(stack.sandbox_url).chats()
        for round_no in range(args.rounds):
            for processes in args.processes:
                run = drain(stack, n8n, chats, processes, args.events, args.timeout)
                runs.append({"round": round_no, **run})
                print(f"  {flavour:8} round {round_no} {processes} processes: {run['rate']:7.1f} events/s "
                      f"({run['delivered']} in {run['drain_s']} s, {run['duplicates']} duplicates, "
                      f"cpu/event {run['cpu_ms_per_event']}, others {run['cpu']['others_pct']}%)", flush=True)
    finally:
        stack.stop()
        stack.cleanup()
        n8n.stop()
    return {"flavour": flavour, "runs": runs, "summary": summarize(runs, args)}


def summarize(runs: list[dict], args) -> list[dict]:
    rows = []
    for processes in args.processes:
        mine = [r for r in runs if r["processes"] == processes]
        rates = sorted(r["rate"] for r in mine)
        rows.append({"processes": processes, "rate": rates[len(rates) // 2], "rate_min": rates[0],
                     "rate_max": rates[-1], "duplicates": sum(r["duplicates"] for r in mine),
                     "delivery_phase_rate": sorted(r["delivery_phase_rate"] for r in mine)[len(mine) // 2],
                     "first_delivery_s": sorted(r["first_delivery_after_ready_s"] for r in mine)[len(mine) // 2],
                     "worker_cpu_ms_per_event": sorted(r["cpu_ms_per_event"]["worker"] for r in mine)[len(mine) // 2],
                     "others_cpu_pct": sorted(r["cpu"]["others_pct"] for r in mine)[len(mine) // 2]})
    return rows


def print_summary(result: dict) -> None:
    rows = [[r["processes"], r["rate"], f"{r['rate_min']:.0f}-{r['rate_max']:.0f}", r["first_delivery_s"],
             r["delivery_phase_rate"], r["worker_cpu_ms_per_event"], r["duplicates"], r["others_cpu_pct"]]
            for r in result["summary"]]
    print(table(["processes", "events/s", "range", "1st delivery s", "delivering/s", "worker cpu ms/event",
                 "duplicates", "others cpu%"], rows,
                title=f"\nDelivery throughput, {result['flavour']} (median of rounds)"))
    by = {r["processes"]: r["rate"] for r in result["summary"]}
    grows = all(by[a] < by[b] for a, b in zip(sorted(by), sorted(by)[1:]))
    print(f"target (grows with processes; >= 200/s with 2): {'met' if grows and by.get(2, 0) >= 200 else 'MISSED'}")


def main(argv=None) -> list[dict]:
    parser = stack_parser(__doc__, flavours="postgres,sqlite")
    parser.add_argument("--processes", default="1,2,4", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for one drain")
    args = parse_stack_args(parser, argv)
    return run_flavours("delivery_throughput", args, measure_flavour, print_summary)


if __name__ == "__main__":
    main()
