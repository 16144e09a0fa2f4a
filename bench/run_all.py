"""Run every benchmark in turn, then summarize their result files as the tables of docs/benchmarks.md.

    .venv/bin/python -m bench.run_all              # the full set, ~30 minutes on 2 cores
    .venv/bin/python -m bench.run_all --quick      # fewer rounds and events, ~5 minutes: a smoke run
    .venv/bin/python -m bench.run_all --only memory,gateway_overhead
    .venv/bin/python -m bench.run_all --report     # only the summary, from bench/results/*.json

The summary (Markdown, with each target met or missed) is printed and written to
bench/results/summary.md.
"""
from __future__ import annotations

import argparse
import importlib
import json

from bench.common import RESULTS_DIR, exit_cleanly_on_sigterm
from bench.webhook_ingest import target_met

ORDER = ["webhook_ingest", "delivery_throughput", "backlog_drain", "rate_limit_utilisation", "gateway_overhead",
         "memory"]
QUICK = {
    "webhook_ingest": ["--rounds", "1", "--seconds", "4"],
    "delivery_throughput": ["--events", "600"],
    "backlog_drain": ["--events", "2000"],
    "rate_limit_utilisation": ["--rounds", "1", "--messages", "100"],
    "gateway_overhead": ["--rounds", "1", "--seconds", "4"],
    "memory": ["--events", "2000"],
}


def _load(name: str) -> dict | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report() -> str:
    out = []
    ingest = _load("webhook_ingest")
    if ingest:
        out += ["### Webhook ingest", "", "| flavour | senders | bare view /s | gateway /s | ratio (range) | gateway p50 / p99 ms "
                "| CPU ms per request, bare / gateway | target |", "|---|---|---|---|---|---|---|---|"]
        for flavour in ingest["flavours"]:
            for r in flavour["summary"]:
                target = _verdict(target_met(r)) if r["senders"] == 16 else ""
                out.append(f"| {flavour['flavour']} | {r['senders']} | {r['bare_rps']:.0f} | {r['gateway_rps']:.0f} | "
                           f"{r['ratio']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) | {r['gateway_p50_ms']:.1f} / "
                           f"{r['gateway_p99_ms']:.1f} | {r['bare_cpu_ms']:.2f} / {r['gateway_cpu_ms']:.2f} | {target} |")
        out.append("")
    delivery = _load("delivery_throughput")
    if delivery:
        out += ["### Delivery throughput", "", "| flavour | worker processes | events/s, ready to last delivery (range) "
                "| first delivery after s | rate while delivering | worker CPU ms per event | duplicates |",
                "|---|---|---|---|---|---|---|"]
        for flavour in delivery["flavours"]:
            for r in flavour["summary"]:
                out.append(f"| {flavour['flavour']} | {r['processes']} | {r['rate']:.0f} ({r['rate_min']:.0f}-"
                           f"{r['rate_max']:.0f}) | {max(0.0, r.get('first_delivery_s', 0)):.1f} | "
                           f"{r.get('delivery_phase_rate', 0):.0f} | {r['worker_cpu_ms_per_event']:.1f} | "
                           f"{r['duplicates']} |")
            by = {r["processes"]: r["rate"] for r in flavour["summary"]}
            grows = all(by[a] < by[b] for a, b in zip(sorted(by), sorted(by)[1:]))
            out.append(f"| {flavour['flavour']} | target: grows, >= 200/s with 2 | "
                       f"{_verdict(grows and by.get(2, 0) >= 200)} | | | | |")
        out.append("")
    backlog = _load("backlog_drain")
    if backlog:
        [run] = backlog["flavours"][0]["runs"]
        out += ["### A backlog drained by the Procfile's worker (fresh PostgreSQL cluster)", "",
                "| events | events/s | drain s | duplicates | worker CPU ms per event | fsync, synchronous_commit "
                "| target (>= 200/s) |", "|---|---|---|---|---|---|---|",
                f"| {run['events']} | {run['rate']:.0f} | {run['drain_s']:.0f} | {run['duplicates']} | "
                f"{run['worker_cpu_ms_per_event']:.1f} | {', '.join(run['durability'])} | "
                f"{_verdict(run['rate'] >= 200)} |", ""]
    limit = _load("rate_limit_utilisation")
    if limit:
        settings = limit["settings"]
        out += [f"### Rate-limit utilisation ({settings['messages']} messages at {settings['limit']}/"
                f"{settings['window']:g} s, {settings['workers']} workers x {settings['concurrency']})", "",
                "| flavour | utilisation (range) | 429s from the sandbox | failed | target |", "|---|---|---|---|---|"]
        for flavour in limit["flavours"]:
            s = flavour["summary"]
            out.append(f"| {flavour['flavour']} | {s['utilisation']:.3f} ({s['utilisation_min']:.3f}-"
                       f"{s['utilisation_max']:.3f}) | {s['avito_429']} | {s['failed']} | "
                       f"{_verdict(s['utilisation'] >= 0.95 and s['avito_429'] == 0)} |")
        out.append("")
    overhead = _load("gateway_overhead")
    if overhead:
        out += ["### Gateway overhead", "", "| flavour | call | senders | straight to the sandbox /s | through the gateway /s "
                "| ratio (range) | p50 ms direct / gateway | CPU ms per call direct / gateway |",
                "|---|---|---|---|---|---|---|---|"]
        for flavour in overhead["flavours"]:
            for r in flavour["summary"]:
                out.append(f"| {flavour['flavour']} | {r['operation']} | {r['senders']} | {r['direct_rps']:.0f} | "
                           f"{r['gateway_rps']:.0f} | {r['ratio']:.3f} ({r['ratio_min']:.3f}-{r['ratio_max']:.3f}) | "
                           f"{r['direct_p50_ms']:.1f} / {r['gateway_p50_ms']:.1f} | {r['direct_cpu_ms']:.2f} / "
                           f"{r['gateway_cpu_ms']:.2f} |")
        out.append("")
    memory = _load("memory")
    if memory:
        out += ["### Memory", "", "| flavour | process | processes seen | RSS after start-up MB | RSS at the end MB "
                "| peak MB | target (< 150 MB) |", "|---|---|---|---|---|---|---|"]
        for flavour in memory["flavours"]:
            for name, r in flavour["roles"].items():
                target = _verdict(r["peak_mb"] < 150) if name in ("gunicorn worker", "celery pool process",
                                                                   "celery main process") else ""
                out.append(f"| {flavour['flavour']} | {name} | {r['processes']} | {r['rss_start_mb']:.1f} | "
                           f"{r['rss_end_mb']:.1f} | {r['peak_mb']:.1f} | {target} |")
        out.append("")
    machine = next((doc["machine"] for doc in (ingest, delivery, limit, overhead, memory) if doc), None)
    if machine:
        out.insert(0, f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB, "
                      f"Linux {machine['kernel']}, Python {machine['python']}; commit {machine['git_commit']}"
                      f"{' (with uncommitted changes)' if machine['git_dirty'] else ''}.\n")
    return "\n".join(out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(ORDER), help="comma-separated benchmark names")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and events: a smoke run")
    parser.add_argument("--report", action="store_true", help="only summarize the existing result files")
    args = parser.parse_args(argv)
    exit_cleanly_on_sigterm()
    if not args.report:
        for name in args.only.split(","):
            print(f"\n===== {name} =====", flush=True)
            importlib.import_module(f"bench.{name}").main(QUICK.get(name, []) if args.quick else [])
    summary = report()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "summary.md").write_text(summary + "\n")
    print("\n" + summary)


if __name__ == "__main__":
    main()
