"""Webhook ingest: notifications per second and p50/p99 latency of `/webhook/avito/<secret>`.

The gateway (production `gunicorn.conf.py`) and a bare Django view answering `{"ok": true}`
(same settings, middleware and gunicorn config; `bench/bare_app`) run side by side and are
loaded in turn at 1, 16 and 64 concurrent senders, every notification a new message id, so
each one is parsed, stored and queued for processing. Rounds alternate which goes first;
the ratio gateway/bare is taken within each round and the median reported.
No Celery worker runs: this measures what Avito waits for, not the processing after it.

    .venv/bin/python -m bench.webhook_ingest [--flavours postgres,sqlite] [--rounds 3] [--seconds 8]

Targets (issue 12): at least 0.4 of the bare view's throughput, and p99 under 100 ms, at 16 senders.
"""
from __future__ import annotations

import uuid

from bench.avito_side import notification_body
from bench.common import (
    Call,
    median,
    parse_stack_args,
    prime,
    run_flavours,
    run_load,
    stack_parser,
    table,
)
from bench.machine import CpuMeter, in_groups
from bench.processes import bench_stack, db_scalar, service_meters, start_bare_view

TARGET_RATIO, TARGET_P99_MS = 0.4, 100  # at 16 senders (issue 12)
HEADERS = {"Content-Type": "application/json", "User-Agent": "Avito-Messenger-Webhook"}
CHATS = [f"u2i-benchChat{n:02d}xYz" for n in range(30)]


def notifications(path: str, prefix: str):
    def make_call(index: int) -> Call:
        body = notification_body(message_id=f"{prefix}{index:08d}", chat_id=CHATS[index % len(CHATS)])
        return Call("POST", path, body, HEADERS)
    return make_call


def measure_flavour(flavour: str, args) -> dict:
    stack = bench_stack(flavour, extra_env=args.env)
    try:
        stack.start(web=True, worker=False, beat=False)
        bare_url = start_bare_view(stack)
        path = f"/webhook/avito/{stack.webhook_secret}"
        targets = {"bare": bare_url, "gateway": stack.base_url}
        groups = {"bare": stack.processes["bare"].pid, "gateway": stack.processes["web"].pid}
        services = service_meters(stack)
        for url in targets.values():
            prime(url, notifications(path, f"w{uuid.uuid4().hex[:10]}-"))
        runs = []
        for round_no in range(args.rounds):
            order = ["bare", "gateway"] if round_no % 2 == 0 else ["gateway", "bare"]
            for senders in args.senders:
                for name in order:
                    meter = CpuMeter({"app": in_groups(groups[name]), **services}).start()
                    result = run_load(targets[name], notifications(path, f"b{uuid.uuid4().hex[:10]}-"),
                                      senders=senders, seconds=args.seconds, warmup=args.warmup)
                    cpu = meter.stop()
                    cpu_ms = {k: round(1000 * v / max(1, result.answered), 3) for k, v in cpu["cpu_s"].items()}
                    runs.append({"round": round_no, "target": name, **result.summary(), "cpu": cpu,
                                 "cpu_ms_per_request": cpu_ms})
                    served = sum(v for k, v in cpu_ms.items() if k != "bench")
                    print(f"  {flavour:8} round {round_no} {name:7} {senders:3} senders: {result.rps:7.1f}/s "
                          f"p50 {result.percentile_ms(50):6.1f} ms p99 {result.percentile_ms(99):6.1f} ms "
                          f"errors {result.errors}  cpu/request {served:.2f} ms {cpu_ms}  "
                          f"others {cpu['others_pct']}%", flush=True)
        stored = db_scalar(stack, "SELECT COUNT(*) FROM webhooks_incomingevent")
    finally:
        stack.stop()
        stack.cleanup()
    answered = sum(run["statuses"].get("200", 0) for run in runs if run["target"] == "gateway")
    return {"flavour": flavour, "runs": runs, "summary": summarize(runs, args),
            "events_stored": stored, "gateway_200s_counted": answered}


def summarize(runs: list[dict], args) -> list[dict]:
    rows = []
    for senders in args.senders:
        def pick(target, key, senders=senders):
            return [r[key] for r in runs if r["target"] == target and r["senders"] == senders]

        def cpu(target):  # CPU ms per request of the server and the services it used (not the load generator)
            return round(median(sum(v for k, v in c.items() if k != "bench") for c in pick(target, "cpu_ms_per_request")), 3)
        ratios = [g / b for g, b in zip(pick("gateway", "rps"), pick("bare", "rps")) if b]
        rows.append({
            "senders": senders, "bare_rps": median(pick("bare", "rps")), "gateway_rps": median(pick("gateway", "rps")),
            "ratio": round(median(ratios), 3), "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3),
            "bare_p50_ms": median(pick("bare", "p50_ms")), "bare_p99_ms": median(pick("bare", "p99_ms")),
            "gateway_p50_ms": median(pick("gateway", "p50_ms")), "gateway_p99_ms": median(pick("gateway", "p99_ms")),
            "gateway_p99_ms_worst": max(pick("gateway", "p99_ms")),
            "gateway_rps_min": min(pick("gateway", "rps")), "gateway_rps_max": max(pick("gateway", "rps")),
            "bare_cpu_ms": cpu("bare"), "gateway_cpu_ms": cpu("gateway"),
            "gateway_cpu_ms_parts": {k: median(c.get(k, 0) for c in pick("gateway", "cpu_ms_per_request"))
                                     for k in pick("gateway", "cpu_ms_per_request")[0]},
            "errors": sum(pick("gateway", "errors")) + sum(pick("bare", "errors")),
            "others_cpu_pct": median([r["cpu"]["others_pct"] for r in runs if r["senders"] == senders]),
        })
    return rows


def target_met(row: dict) -> bool:
    """The target at 16 senders (issue 12), read here and by run_all's summary."""
    return row["ratio"] >= TARGET_RATIO and row["gateway_p99_ms"] < TARGET_P99_MS


def print_summary(result: dict) -> None:
    rows = [[r["senders"], r["bare_rps"], r["gateway_rps"], r["ratio"], f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}",
             r["bare_p50_ms"], r["bare_p99_ms"], r["gateway_p50_ms"], r["gateway_p99_ms"], r["bare_cpu_ms"],
             r["gateway_cpu_ms"], r["errors"], r["others_cpu_pct"]] for r in result["summary"]]
    print(table(["senders", "bare/s", "gateway/s", "ratio", "ratio range", "bare p50", "bare p99", "gw p50 ms",
                 "gw p99 ms", "bare cpu ms", "gw cpu ms", "errors", "others cpu%"], rows,
                title=f"\nWebhook ingest, {result['flavour']} (medians of rounds; {result['events_stored']} events "
                      f"stored for {result['gateway_200s_counted']} counted 200s)"))
    at16 = next((r for r in result["summary"] if r["senders"] == 16), None)
    if at16:
        verdict = "met" if target_met(at16) else "MISSED"
        print(f"target at 16 senders (ratio >= {TARGET_RATIO}, p99 < {TARGET_P99_MS} ms): {verdict}")


def main(argv=None) -> list[dict]:
    parser = stack_parser(__doc__, flavours="postgres,sqlite")
    parser.add_argument("--senders", default="1,16,64", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parse_stack_args(parser, argv)
    return run_flavours("webhook_ingest", args, measure_flavour, print_summary)


if __name__ == "__main__":
    main()
