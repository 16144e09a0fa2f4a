"""The gateway as real processes for the webhook tests: gunicorn and a Celery worker.

A throwaway PostgreSQL database and a Redis database of their own (the broker and the
token store; claimed with a lock key, so two runs of these tests at once never share a
broker), one environment for every process, logs in a temporary folder. `kill_worker`
sends SIGKILL to the worker's whole process group (the main process and its pool), the
way a crashed host or an OOM kill ends it: no graceful shutdown, no acknowledgements.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import redis
import requests

from tests.e2e.stack import free_port, logs_tail, stop_process_groups, wait_until  # noqa: F401 (re-exported for the webhook tests)

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://root@127.0.0.1:5432/postgres"
REDIS_DBS = range(1, 12)  # 12-15 belong to other suites (bulk, e2e, avito, tests/conftest.py)
REDIS_LOCK = "avitogw:tests:webhooks:owner"


def claim_redis_db(owner: str) -> int:
    """An empty Redis database, taken with a lock key that expires if this run dies."""
    for db in REDIS_DBS:
        connection = redis.Redis(host="127.0.0.1", port=6379, db=db)
        if connection.set(REDIS_LOCK, owner, nx=True, ex=600):
            if connection.dbsize() == 1:  # nothing but our lock: nobody else works here
                return db
            connection.delete(REDIS_LOCK)
    raise RuntimeError("no empty Redis database among 1-11 for the real-process tests")


class Gateway:
    def __init__(self, workdir: Path, *, env: dict[str, str]):
        self.workdir = workdir
        self.database = f"avitogw_wh_{uuid.uuid4().hex[:10]}"
        self.redis_url = f"redis://127.0.0.1:6379/{claim_redis_db(self.database)}"
        self.port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
        self.env = {**base, "DJANGO_SETTINGS_MODULE": "avitogw.settings", "SECRET_KEY": "t-" + "k" * 60,
                    "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1", "DATA_DIR": str(workdir / "data"),
                    "DATABASE_URL": f"postgres://root@127.0.0.1:5432/{self.database}", "REDIS_URL": self.redis_url,
                    "SERVER_HOST": "127.0.0.1", "SERVER_PORT": str(self.port), "WEB_CONCURRENCY": "2",
                    "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", **env}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Gateway":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env,
                       check=True)
        self._spawn("web", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "avitogw.wsgi:application"])
        wait_until(lambda: requests.post(self.url + "/webhook/avito/probe-only", timeout=1).status_code, 30,
                   "gunicorn")
        self.start_worker()
        return self

    def start_worker(self) -> None:
        self._spawn("worker", [sys.executable, "-m", "celery", "-A", "avitogw", "worker", "--loglevel", "INFO",
                               "--concurrency", "2", "-n", f"wh-{uuid.uuid4().hex[:6]}@%h"])

    def kill_worker(self) -> None:
        process = self.processes.pop("worker")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)

    def sql(self, query: str) -> list[tuple]:
        with psycopg.connect(f"postgresql://root@127.0.0.1:5432/{self.database}") as conn:
            return conn.execute(query).fetchall()

    def stop(self) -> None:
        stop_process_groups(self.processes)
        connection = redis.Redis.from_url(self.redis_url)
        if connection.get(REDIS_LOCK) == self.database.encode():
            connection.flushdb()  # our broker's leftovers, and the lock
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def logs(self, tail: int = 40) -> str:
        return logs_tail(self.workdir, tail)
