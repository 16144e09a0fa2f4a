"""What machine a benchmark ran on, and how much of its CPU other people's processes took meanwhile.

Absolute figures only mean something next to the machine they came from, so every result
file carries `machine_info()`. On a shared machine the figures also drift with whatever
else runs: `CpuMeter` reads the kernel's CPU counters around a measurement and splits the
busy time into ours (the benchmark and the process groups of the stack it started) and
everybody else's, so a noisy run can be recognised as one.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PACKAGES = ("Django", "djangorestframework", "gunicorn", "celery", "kombu", "psycopg", "redis", "requests")


def _first(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine_info() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(int(_first("/proc/meminfo", "MemTotal").split()[0]) / 1024 / 1024, 1)
        if _first("/proc/meminfo", "MemTotal") else None,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "packages": versions,
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "loadavg": [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]],
    }


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already inside user/nice
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


class Proc(NamedTuple):
    pgid: int
    ppid: int
    cpu: float  # its own CPU seconds so far
    reaped: float  # CPU seconds of its children that ended and that it waited for


def process_table() -> dict[int, Proc]:
    """Every live process: pid -> its group, parent and CPU seconds so far."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: [1] ppid, [2] pgrp, [11] utime, [12] stime, [13] cutime, [14] cstime.
        table[int(entry.name)] = Proc(int(fields[2]), int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
                                      (int(fields[13]) + int(fields[14])) / CLOCK_TICKS)
    return table


Selector = Callable[[dict], set]


def in_groups(*pgids: int) -> Selector:
    """The processes of these process groups (a Popen with start_new_session=True leads one)."""
    return lambda table: {pid for pid, proc in table.items() if proc.pgid in pgids}


def these(pids: Callable[[], Iterable[int]]) -> Selector:
    return lambda table: set(pids())


class CpuMeter:
    """CPU time over an interval: per named set of processes, and everybody else's.

    A process that starts within the interval counts in full. One that ends within it is
    counted through its parent when the parent is in the set (a recycled gunicorn worker,
    a replaced Celery pool process: the kernel adds its time to the parent's once reaped),
    less what it had used before the interval; otherwise its time is lost. `others_pct` is
    the machine's busy time that none of the sets nor this benchmark's own process group
    used, as a share of all cores.
    """

    def __init__(self, groups: dict[str, Selector] | None = None):
        self.groups = {"bench": in_groups(os.getpgrp()), **(groups or {})}

    def start(self) -> CpuMeter:
        self.busy0, self.total0 = _machine_busy()
        self.table0 = process_table()
        self.pids0 = {name: select(self.table0) for name, select in self.groups.items()}
        return self

    def _used(self, name: str, table: dict[int, Proc]) -> float:
        before, none = self.table0, Proc(0, 0, 0.0, 0.0)
        live = (self.groups[name](table) | self.pids0[name]) & table.keys()
        used = sum(table[pid].cpu + table[pid].reaped - before.get(pid, none).cpu - before.get(pid, none).reaped
                   for pid in live)
        # Ended since the start and reaped by a parent counted above: its earlier time is not this interval's.
        ended = {pid for pid in self.pids0[name] - table.keys() if before[pid].ppid in live}
        return used - sum(before[pid].cpu + before[pid].reaped for pid in ended)

    def stop(self) -> dict:
        busy, total = _machine_busy()
        table = process_table()
        used = {name: round(max(0.0, self._used(name, table)), 3) for name in self.groups}
        wall = (total - self.total0) or 1e-9
        busy -= self.busy0
        others = max(0.0, busy - sum(used.values()))
        return {"machine_busy_pct": round(100 * busy / wall, 1), "others_pct": round(100 * others / wall, 1),
                "cpu_s": used}
