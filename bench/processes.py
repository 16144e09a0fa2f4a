"""The processes a benchmark measures: the gateway's stack, the bare view beside it, their memory.

`bench_stack` is the end-to-end suite's `Stack` (tests/e2e/stack.py: sandbox, gunicorn with
the production `gunicorn.conf.py`, Celery) in a throwaway folder, with the settings every
benchmark shares. `start_bare_view` serves `bench.bare_app` with the same gunicorn config
and environment on another port, so the two differ only in the view. `RssSampler` reads
each process's memory from /proc while a benchmark runs.
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

from tests.e2e.stack import PYTHON, ROOT, Stack, free_port, wait_until

# No Avito or gateway API limit gets in the way unless a benchmark sets one on purpose.
UNLIMITED = {"RATE_LIMIT_REQUESTS": "1000000", "RATE_LIMIT_WINDOW": "60", "API_RATE_LIMIT": "1000000/m",
             "MAX_CONNECTIONS": "64"}


class BenchStack(Stack):
    """The e2e Stack (its own Redis database, claimed; a throwaway PostgreSQL database), named for the
    benchmark so its database is recognisable, with a gentler way to stop one worker."""

    def __init__(self, workdir: Path, **kwargs):
        super().__init__(workdir, **kwargs)
        if self.flavour == "postgres":
            self.database = f"avitogw_bench_{uuid.uuid4().hex[:10]}"
            self.env["DATABASE_URL"] = f"postgres://root@127.0.0.1:5432/{self.database}"

    def stop_worker(self, name: str, grace: float = 30) -> None:
        """SIGTERM (Celery's warm shutdown: running tasks finish), SIGKILL if that takes too long."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def bench_stack(flavour: str, *, n8n_url: str = "", extra_env: dict | None = None, **kwargs) -> BenchStack:
    workdir = Path(tempfile.mkdtemp(prefix=f"avitogw-bench-{flavour}-"))
    env = {**UNLIMITED, **(extra_env or {})}
    return BenchStack(workdir, flavour=flavour, n8n_url=n8n_url, extra_env=env, **kwargs)


def start_bare_view(stack: Stack) -> str:
    """gunicorn -c gunicorn.conf.py bench.bare_app.wsgi:application, beside the stack's own; its URL."""
    port = free_port()
    env = {**stack.env, "SERVER_PORT": str(port), "DJANGO_SETTINGS_MODULE": "bench.bare_app.settings"}
    log = open(stack.workdir / "bare.log", "ab")
    process = subprocess.Popen([PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "bench.bare_app.wsgi:application"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    stack.processes["bare"] = process  # stack.stop() ends it with the rest
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: requests.get(f"{url}/health", timeout=1).ok, 60, "the bare view's gunicorn")
    return url


def bulk_job_run(stack: Stack, items: list[dict], *, timeout: float, interval: float) -> dict:
    """POST a bulk job through the gateway's API and wait until it has ended; its last status."""
    answer = requests.post(f"{stack.base_url}/api/messages/send/bulk", json={"messages": items},
                           headers=stack.headers, timeout=30)
    answer.raise_for_status()
    status_url = answer.json()["status_url"]

    def ended():
        body = requests.get(status_url, headers=stack.headers, timeout=10).json()
        return body if body["status"] in ("completed", "cancelled") else None

    return wait_until(ended, timeout, "the bulk job", interval=interval)


def wait_workers_ready(stack: Stack, name: str = "worker", timeout: float = 90) -> None:
    """Until the named Celery worker has logged that it is ready for tasks."""
    log = stack.workdir / f"{name}.log"
    wait_until(lambda: log.exists() and "ready." in log.read_text(errors="replace"), timeout, f"Celery {name}")


# --- processes and memory -----------------------------------------------------------------------
def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (a Popen started with start_new_session=True leads one)."""
    members = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (the most it was ever resident) of a process, in kB."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line[:5]] = int(line.split()[1])
    except OSError:
        pass
    return values


def parent_of(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


class RssSampler:
    """Samples the memory of every process in some process groups until stopped.

    Keeps, per process, its peak (VmHWM, read on every sample so a process that exits later,
    such as a recycled gunicorn worker, still counts) and the resident size at each sample.
    A process whose parent is in the same group is a worker; the group's leader is the master.
    """

    def __init__(self, groups: dict[str, int], interval: float = 0.5):
        self.groups, self.interval = groups, interval
        self.peaks: dict[int, dict] = {}
        self.series: list[tuple[float, str, int, str, int]] = []  # (t, group, pid, role, rss kB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        now = time.monotonic() - self.started
        for name, pgid in self.groups.items():
            for pid in group_members(pgid):
                kb = memory_kb(pid)
                if not kb:
                    continue
                role = "master" if pid == pgid else "worker"
                entry = self.peaks.setdefault(pid, {"group": name, "role": role, "peak_kb": 0})
                entry["peak_kb"] = max(entry["peak_kb"], kb.get("VmHWM", 0), kb.get("VmRSS", 0))
                entry["last_kb"] = kb.get("VmRSS", 0)
                self.series.append((round(now, 2), name, pid, role, kb.get("VmRSS", 0)))

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def peak_mb(self, group: str, role: str | None = None) -> float:
        peaks = [p["peak_kb"] for p in self.peaks.values() if p["group"] == group and role in (None, p["role"])]
        return round(max(peaks, default=0) / 1024, 1)


def db_scalar(stack: Stack, sql: str):
    """One value from the stack's own database (PostgreSQL or the SQLite file), to check what was stored."""
    if stack.flavour == "postgres":
        import psycopg

        with psycopg.connect(stack.env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)) as conn:
            return conn.execute(sql).fetchone()[0]
    import sqlite3

    with sqlite3.connect(Path(stack.env["DATA_DIR"]) / "avitogw.sqlite3", timeout=30) as conn:
        return conn.execute(sql).fetchone()[0]


def pg_backends(stack: Stack):
    """A function listing the PostgreSQL backends serving the stack's database (their CPU is the gateway's)."""
    import psycopg

    from tests.e2e.stack import PG_ADMIN_URL

    def pids() -> set[int]:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [stack.database]).fetchall()
        return {row[0] for row in rows}
    return pids


def named_processes(name: str):
    """A function listing the processes whose command name is `name` (e.g. the shared redis-server)."""
    def pids() -> set[int]:
        found = set()
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    if Path(entry.path, "comm").read_text().strip() == name:
                        found.add(int(entry.name))
                except OSError:
                    pass
        return found
    return pids


def service_meters(stack: Stack) -> dict:
    """CpuMeter selectors for the services the stack uses beside its own processes."""
    from bench.machine import these

    if stack.flavour != "postgres":
        return {}
    return {"postgres": these(pg_backends(stack)), "redis": these(named_processes("redis-server"))}
