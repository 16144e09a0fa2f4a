"""Gateway overhead: the same Avito call through the gateway and straight to the sandbox, as a throughput ratio.

Two calls: reading a chat (`GET /api/chats/{id}` against Avito's getChatByIdV2) and sending a
text (`POST /api/messages/send` against postSendMessage). Each is loaded at the same
concurrency both ways, in turn, for several rounds; the ratio gateway/direct is taken within
each round. Through the gateway a call also passes the API key check and API_RATE_LIMIT, the
shared Avito rate limiter (set high here, so it counts but never waits), the token store,
and for a send the storing of the message. The sandbox is one process serving both paths,
so it is part of both figures. CPU per request is split by process.

    .venv/bin/python -m bench.gateway_overhead [--flavours postgres] [--senders 1,16] [--rounds 3]
"""
from __future__ import annotations

import json
import uuid

from bench.avito_side import Sandbox
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
from bench.processes import bench_stack, service_meters

JSON = {"Content-Type": "application/json"}


def calls(stack, sandbox: Sandbox, chats: list[str]) -> dict:
    """For each operation, the request maker through the gateway and straight to the sandbox."""
    account = f"/messenger/v2/accounts/{sandbox.account}"
    send = f"/messenger/v1/accounts/{sandbox.account}/chats"
    tag = uuid.uuid4().hex[:6]

    def text(i: int) -> str:
        return f"Да, ещё продаём. Приезжайте ({tag} {i})"

    return {
        "get_chat": {
            "gateway": lambda i: Call("GET", f"/api/chats/{chats[i % len(chats)]}", b"", stack.headers),
            "direct": lambda i: Call("GET", f"{account}/chats/{chats[i % len(chats)]}", b"", sandbox.auth),
        },
        "send_text": {
            "gateway": lambda i: Call("POST", "/api/messages/send", json.dumps(
                {"chat_id": chats[i % len(chats)], "text": text(i)}).encode(), {**JSON, **stack.headers}),
            "direct": lambda i: Call("POST", f"{send}/{chats[i % len(chats)]}/messages", json.dumps(
                {"message": {"text": text(i)}, "type": "text"}).encode(), {**JSON, **sandbox.auth}),
        },
    }


def measure_flavour(flavour: str, args) -> dict:
    stack = bench_stack(flavour, extra_env=args.env)
    runs = []
    try:
        stack.start(web=True, worker=False, beat=False)
        sandbox = Sandbox(stack.sandbox_url)
        chats = [chat["id"] for chat in sandbox.chats()]
        makers = calls(stack, sandbox, chats)
        urls = {"gateway": stack.base_url, "direct": stack.sandbox_url}
        meters = {"web": in_groups(stack.processes["web"].pid), "sandbox": in_groups(stack.processes["sandbox"].pid),
                  **service_meters(stack)}
        for by_path in makers.values():
            for path, make_call in by_path.items():
                prime(urls[path], make_call)
        for round_no in range(args.rounds):
            order = ["direct", "gateway"] if round_no % 2 == 0 else ["gateway", "direct"]
            for operation, by_path in makers.items():
                for senders in args.senders:
                    for path in order:
                        meter = CpuMeter(meters).start()
                        result = run_load(urls[path], by_path[path], senders=senders, seconds=args.seconds,
                                          warmup=args.warmup)
                        cpu = meter.stop()
                        cpu_ms = {k: round(1000 * v / max(1, result.answered), 3) for k, v in cpu["cpu_s"].items()}
                        runs.append({"round": round_no, "operation": operation, "path": path, **result.summary(),
                                     "cpu": cpu, "cpu_ms_per_request": cpu_ms})
                        print(f"  {flavour:8} round {round_no} {operation:9} {path:7} {senders:3} senders: "
                              f"{result.rps:7.1f}/s p50 {result.percentile_ms(50):6.1f} ms p99 "
                              f"{result.percentile_ms(99):6.1f} ms errors {result.errors} cpu/request {cpu_ms} "
                              f"others {cpu['others_pct']}%", flush=True)
    finally:
        stack.stop()
        stack.cleanup()
    return {"flavour": flavour, "runs": runs, "summary": summarize(runs, args)}


def summarize(runs: list[dict], args) -> list[dict]:
    rows = []
    for operation in ("get_chat", "send_text"):
        for senders in args.senders:
            def pick(path, key, operation=operation, senders=senders):
                return [r[key] for r in runs if r["operation"] == operation and r["senders"] == senders
                        and r["path"] == path]
            ratios = [g / d for g, d in zip(pick("gateway", "rps"), pick("direct", "rps")) if d]
            cpu = {path: median(sum(v for k, v in c.items() if k != "bench") for c in pick(path, "cpu_ms_per_request"))
                   for path in ("gateway", "direct")}
            rows.append({"operation": operation, "senders": senders, "direct_rps": median(pick("direct", "rps")),
                         "gateway_rps": median(pick("gateway", "rps")), "ratio": round(median(ratios), 3),
                         "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3),
                         "direct_p50_ms": median(pick("direct", "p50_ms")),
                         "gateway_p50_ms": median(pick("gateway", "p50_ms")),
                         "direct_p99_ms": median(pick("direct", "p99_ms")),
                         "gateway_p99_ms": median(pick("gateway", "p99_ms")),
                         "direct_cpu_ms": round(cpu["direct"], 3), "gateway_cpu_ms": round(cpu["gateway"], 3),
                         "errors": sum(pick("gateway", "errors")) + sum(pick("direct", "errors"))})
    return rows


def print_summary(result: dict) -> None:
    rows = [[r["operation"], r["senders"], r["direct_rps"], r["gateway_rps"], r["ratio"],
             f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}", r["direct_p50_ms"], r["gateway_p50_ms"],
             r["direct_p99_ms"], r["gateway_p99_ms"], r["direct_cpu_ms"], r["gateway_cpu_ms"], r["errors"]]
            for r in result["summary"]]
    print(table(["call", "senders", "direct/s", "gateway/s", "ratio", "range", "direct p50", "gw p50",
                 "direct p99", "gw p99", "direct cpu ms", "gw cpu ms", "errors"], rows,
                title=f"\nGateway overhead, {result['flavour']} (medians of rounds)"))


def main(argv=None) -> list[dict]:
    parser = stack_parser(__doc__, flavours="postgres")
    parser.add_argument("--senders", default="1,16", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parse_stack_args(parser, argv)
    return run_flavours("gateway_overhead", args, measure_flavour, print_summary)

if __name__ == "__main__":
    main()
