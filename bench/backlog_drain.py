"""A real backlog, drained by the production worker command on a fresh PostgreSQL cluster.

What an operator sees after a burst: at least 20,000 notifications stored while the
worker is down (or far behind), then the Procfile's worker command exactly
(`celery -A avitogw worker --loglevel INFO`: the default concurrency, one pool process
per core) drains them into the n8n stand-in. The database is a PostgreSQL cluster of its
own, made by `initdb` in a temporary folder with PostgreSQL's default durability (fsync
on, synchronous_commit on): no shared server's tuning helps or hurts. The rate is the
events over the time from the worker's "ready" to the last delivery; duplicates (one
webhook-id twice) are counted.

    .venv/bin/python -m bench.backlog_drain [--events 20000]

Target: at least 200 events/s.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg

from bench.avito_side import Sandbox
from bench.common import parse_stack_args, run_flavours, stack_parser, table
from bench.delivery_throughput import Tally, backlog
from bench.machine import CpuMeter, in_groups
from bench.processes import bench_stack, wait_workers_ready
from tests.e2e.n8n_standin import N8nStandIn
from tests.e2e.stack import PYTHON, free_port, wait_until

PROCFILE_WORKER = ["-m", "celery", "-A", "avitogw", "worker", "--loglevel", "INFO"]


class OwnPostgres:
    """A PostgreSQL cluster of the benchmark's own (initdb, as the `postgres` user), on a free port."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="avitogw-bench-pg-"))
        self.data, self.port = self.folder / "data", free_port()
        shutil.chown(self.folder, "postgres")
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, stdout=subprocess.DEVNULL)

    def start(self) -> str:
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-U", "root", "--auth=trust",
                          "--no-sync")
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "pg.log"),
                          "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "-w", "start")
        with psycopg.connect(f"postgresql://root@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE avitogw")
            durability = conn.execute("SELECT current_setting('fsync'), current_setting('synchronous_commit')")
            self.durability = durability.fetchone()
        return f"postgres://root@127.0.0.1:{self.port}/avitogw"

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.data),
                        "-m", "fast", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.folder, ignore_errors=True)


def measure_flavour(flavour: str, args) -> dict:
    assert flavour == "postgres", "the backlog case is PostgreSQL's (production's) by definition"
    n8n, postgres = N8nStandIn().start(), OwnPostgres()
    stack = bench_stack(flavour, n8n_url=n8n.url, extra_env=args.env)
    stack.database = None  # not on the shared server: on the cluster of its own
    stack.env["DATABASE_URL"] = postgres.start()
    try:
        stack.start(web=True, worker=False, beat=False)
        chats = Sandbox(stack.sandbox_url).chats()
        prefix = f"b{uuid.uuid4().hex[:10]}-"
        stored = time.monotonic()
        backlog(stack, chats, prefix, args.events)
        ingest_rate = args.events / (time.monotonic() - stored)
        meter = CpuMeter({"worker": in_groups(stack._spawn("worker", [PYTHON, *PROCFILE_WORKER]).pid)}).start()
        wait_workers_ready(stack, "worker")
        ready = time.monotonic()
        tally = Tally(n8n, prefix)
        wait_until(lambda: tally.count() >= args.events, args.timeout, f"{args.events} deliveries", interval=0.5)
        cpu = meter.stop()
        tally.count()
        times = sorted(item.at for item in tally.items)
        ids = Counter(item.headers["webhook-id"] for item in tally.items)
        run = {"events": args.events, "delivered": len(tally.items), "duplicates": sum(n - 1 for n in ids.values()),
               "rate": round(len(times) / (times[-1] - ready), 1), "drain_s": round(times[-1] - ready, 1),
               "ingest_rate": round(ingest_rate, 1), "durability": postgres.durability, "cpu": cpu,
               "worker_cpu_ms_per_event": round(1000 * cpu["cpu_s"]["worker"] / args.events, 2)}
        print(f"  {run['rate']} events/s ({run['delivered']} in {run['drain_s']} s, {run['duplicates']} duplicates,"
              f" worker cpu/event {run['worker_cpu_ms_per_event']} ms, others {cpu['others_pct']}%)", flush=True)
    finally:
        stack.stop()
        stack.cleanup()
        n8n.stop()
        postgres.stop()
    return {"flavour": flavour, "runs": [run]}


def print_summary(result: dict) -> None:
    [run] = result["runs"]
    print(table(["events", "events/s", "drain s", "duplicates", "worker cpu ms/event", "fsync, synchronous_commit",
                 "others cpu%"],
                [[run["events"], run["rate"], run["drain_s"], run["duplicates"], run["worker_cpu_ms_per_event"],
                  ", ".join(run["durability"]), run["cpu"]["others_pct"]]],
                title="\nBacklog drained by the Procfile's worker, fresh PostgreSQL cluster"))
    print(f"target (>= 200 events/s): {'met' if run['rate'] >= 200 else 'MISSED'}")


def main(argv=None) -> list[dict]:
    parser = stack_parser(__doc__, flavours="postgres")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for the drain")
    args = parse_stack_args(parser, argv)
    return run_flavours("backlog_drain", args, measure_flavour, print_summary)


if __name__ == "__main__":
    main()
