"""Memory: peak resident size of the web workers and the Celery worker through 10,000 webhook events.

The whole stack runs (gunicorn with the production config, one Celery worker, beat) and
delivers to an n8n stand-in. 10,000 customer messages about the sandbox's real chats are
posted to `/webhook/avito/<secret>` by 16 senders, and the run ends when all 10,000 have
been delivered. Every process's VmHWM (its peak resident set, kept by the kernel) and VmRSS
are read twice a second, so a gunicorn worker that is recycled on the way (max_requests)
still counts. Reported per role: gunicorn master and workers, Celery's main process and its
pool processes; and the resident size of each role after start-up against at the end,
which shows a leak as growth.

    .venv/bin/python -m bench.memory [--flavours postgres] [--events 10000]

Target: under 150 MB for a web worker and for a Celery worker.
"""
from __future__ import annotations

import time
import uuid

from bench.avito_side import Sandbox
from bench.common import parse_stack_args, run_flavours, stack_parser, table
from bench.delivery_throughput import Tally, backlog
from bench.processes import RssSampler, bench_stack, wait_workers_ready
from tests.e2e.n8n_standin import N8nStandIn
from tests.e2e.stack import wait_until

TARGET_MB = 150


ROLES = {("web", "master"): "gunicorn master", ("web", "worker"): "gunicorn worker",
         ("worker", "master"): "celery main process", ("worker", "worker"): "celery pool process"}


def roles(sampler: RssSampler) -> dict:
    """Per role: peak, resident size at the first and the last sample, and how many processes held it."""
    found = {}
    for (group, role), name in ROLES.items():
        pids = {pid for pid, peak in sampler.peaks.items() if peak["group"] == group and peak["role"] == role}
        series = [(t, rss) for t, _, pid, _, rss in sampler.series if pid in pids]
        if not series:
            continue
        first_t, last_t = series[0][0], series[-1][0]
        found[name] = {"peak_mb": sampler.peak_mb(group, role), "processes": len(pids),
                       "rss_start_mb": round(max(rss for t, rss in series if t == first_t) / 1024, 1),
                       "rss_end_mb": round(max(rss for t, rss in series if t == last_t) / 1024, 1)}
    return found


def measure_flavour(flavour: str, args) -> dict:
    n8n = N8nStandIn().start()
    stack = bench_stack(flavour, n8n_url=n8n.url, extra_env=args.env)
    try:
        stack.start(web=True, worker=True, beat=True)
        wait_workers_ready(stack, "worker")
        chats = Sandbox(stack.sandbox_url).chats()
        sampler = RssSampler({"web": stack.processes["web"].pid, "worker": stack.processes["worker"].pid}).start()
        time.sleep(1)
        prefix = f"m{uuid.uuid4().hex[:10]}-"
        tally = Tally(n8n, prefix)
        started = time.monotonic()
        for offset in range(0, args.events, 1000):  # in blocks, so progress shows
            backlog(stack, chats, f"{prefix}{offset // 1000:02d}-", min(1000, args.events - offset))
            print(f"  {flavour}: {offset + 1000} posted, {tally.count()} delivered", flush=True)
        posted = time.monotonic()
        wait_until(lambda: tally.count() >= args.events, args.timeout, f"{args.events} deliveries", interval=1)
        delivered = time.monotonic()
        time.sleep(1)
        sampler.stop()
    finally:
        stack.stop()
        stack.cleanup()
        n8n.stop()
    return {"flavour": flavour, "events": args.events, "delivered": tally.count(),
            "post_s": round(posted - started, 1), "deliver_s": round(delivered - started, 1),
            "roles": roles(sampler), "samples": len(sampler.series)}


def print_summary(result: dict) -> None:
    rows = [[name, r["processes"], r["rss_start_mb"], r["rss_end_mb"], r["peak_mb"]]
            for name, r in result["roles"].items()]
    print(table(["process", "count", "RSS at start MB", "RSS at end MB", "peak MB"], rows,
                title=f"\nMemory, {result['flavour']}: {result['delivered']} of {result['events']} events "
                      f"delivered in {result['deliver_s']} s"))
    worst = max(r["peak_mb"] for r in result["roles"].values())
    print(f"target (every process under {TARGET_MB} MB): {'met' if worst < TARGET_MB else 'MISSED'}")


def main(argv=None) -> list[dict]:
    parser = stack_parser(__doc__, flavours="postgres")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for every delivery")
    args = parse_stack_args(parser, argv)
    return run_flavours("memory", args, measure_flavour, print_summary)

if __name__ == "__main__":
    main()
