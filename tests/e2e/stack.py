"""The whole gateway as real processes, for the end-to-end suite and the benchmarks.

`Stack` starts the Avito sandbox (`python -m sandbox.server`), gunicorn (the production config), a
Celery worker and Celery beat with one environment (production settings, as a shop runs them), in
one of two flavours: PostgreSQL + Redis (the local servers; a throwaway database and Redis db) or
SQLite + the embedded broker (no services).
Every process's output goes to a log file in the stack's folder, shown when start-up fails.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SANDBOX_ACCOUNT = 1234567
PG_ADMIN_URL = "postgresql://root@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception:  # noqa: BLE001 (not up yet, whatever the reason)
            result = None
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")


def logs_tail(workdir: Path, tail: int) -> str:
    """The last `tail` lines of every process's log in `workdir`, each under its name (for a failing test's output)."""
    parts = []
    for log in sorted(workdir.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()[-tail:]
        parts.append(f"----- {log.name} -----\n" + "\n".join(lines))
    return "\n".join(parts)


def stop_process_groups(processes: dict) -> None:
    """SIGTERM every still-running process group at once, then wait for each (SIGKILL after 15 s), and forget them."""
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    processes.clear()

class Stack:
    def __init__(self, workdir: Path, *, flavour: str = "sqlite", n8n_url: str = "", extra_env: dict | None = None,
                 sandbox_args: tuple[str, ...] = (), worker_concurrency: int = 2, workers: int = 1):
        assert flavour in ("sqlite", "postgres")
        self.workdir, self.flavour = Path(workdir), flavour
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.web_port, self.sandbox_port = free_port(), free_port()
        self.sandbox_args, self.worker_concurrency, self.workers = sandbox_args, worker_concurrency, workers
        self.api_key = "e2e-" + uuid.uuid4().hex
        self.webhook_secret = "hook" + uuid.uuid4().hex[:12]
        self.n8n_secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        self.database = f"avitogw_e2e_{uuid.uuid4().hex[:10]}" if flavour == "postgres" else None
        self.processes: dict[str, subprocess.Popen] = {}
        self.redis_db: int | None = None
        self.env = self._environment(n8n_url, extra_env or {})

    # --- configuration ----------------------------------------------------------------------
    def _environment(self, n8n_url: str, extra: dict) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
        env.update({
            "DJANGO_SETTINGS_MODULE": "avitogw.settings",
            "SECRET_KEY": "e2e-" + "k" * 60, "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATA_DIR": str(self.workdir / "data"),
            "AVITO_API_BASE_URL": f"http://127.0.0.1:{self.sandbox_port}",
            "AVITO_CLIENT_ID": "e2e-client", "AVITO_CLIENT_SECRET": "e2e-secret",
            "AVITO_USER_ID": str(SANDBOX_ACCOUNT),
            "API_KEY": self.api_key, "AVITO_WEBHOOK_SECRET": self.webhook_secret,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.web_port}",
            "N8N_WEBHOOK_URL": n8n_url, "N8N_WEBHOOK_SECRET": self.n8n_secret,
            "N8N_FORWARD_BACKOFF_BASE": "0.5", "N8N_FORWARD_BACKOFF_MAX": "2",
            "EVENT_BACKOFF_BASE": "0.5", "EVENT_BACKOFF_MAX": "2",
            "SERVER_HOST": "127.0.0.1", "SERVER_PORT": str(self.web_port),
            "RETRY_BACKOFF_BASE": "0.2", "CONNECTION_TIMEOUT": "10", "IMAGE_URL_ALLOW_PRIVATE": "true",
            # The sandbox serves its images on loopback, on its port (callbacks to the n8n stand-in: its host and port).
            "CALLBACK_ALLOWED_HOSTS": f"127.0.0.1:{self.sandbox_port}",
            "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
        })
        if self.flavour == "postgres":
            env["DATABASE_URL"] = f"postgres://root@127.0.0.1:5432/{self.database}"
            from tests.webhooks.processes import claim_redis_db

            # A Redis database of its own: two suites sharing a broker would take each other's tasks.
            self.redis_db = claim_redis_db(f"e2e-{uuid.uuid4().hex}")
            env["REDIS_URL"] = f"redis://127.0.0.1:6379/{self.redis_db}"
        else:
            env["REDIS_URL"] = ""
            env["CELERY_BROKER_URL"] = ""
        env.update(extra)
        return env

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def headers(self) -> dict:
        return {"X-API-Key": self.api_key}

    # --- processes --------------------------------------------------------------------------
    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes[name] = process
        return process

    def start_sandbox(self) -> None:
        # Without Django: the gateway's processes run production settings, which leave the sandbox's app out.
        self._spawn("sandbox", [PYTHON, "-m", "sandbox.server", "--port", str(self.sandbox_port),
                                "--user-id", str(SANDBOX_ACCOUNT), *self.sandbox_args])
        wait_until(lambda: requests.get(f"{self.sandbox_url}/_sandbox/stats", timeout=1).ok, 30, "the sandbox")

    def start_web(self) -> None:
        self._spawn("web", [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "avitogw.wsgi:application"])
        wait_until(lambda: requests.get(f"{self.base_url}/health", timeout=1).ok, 60, "gunicorn")

    def start_worker(self, name: str = "worker") -> subprocess.Popen:
        return self._spawn(name, [PYTHON, "-m", "celery", "-A", "avitogw", "worker", "--loglevel", "INFO",
                                  "--concurrency", str(self.worker_concurrency), "-n", f"{name}@%h"])

    def start_beat(self) -> None:
        self._spawn("beat", [PYTHON, "-m", "celery", "-A", "avitogw", "beat", "--loglevel", "INFO"])

    def migrate(self) -> None:
        if self.database:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.database}"')
        if self.env.get("REDIS_URL"):
            import redis

            connection = redis.Redis.from_url(self.env["REDIS_URL"])
            for key in connection.scan_iter():
                if not key.startswith(b"avitogw:tests:"):  # keep the claim's lock key
                    connection.delete(key)
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True)

    def start(self, *, web: bool = True, worker: bool = True, beat: bool = True) -> "Stack":
        try:
            self.migrate()
            self.start_sandbox()
            if web:
                self.start_web()
            for index in range(self.workers if worker else 0):
                self.start_worker(f"worker{index}" if index else "worker")
            if beat:
                self.start_beat()
        except Exception:
            print(self.logs())
            self.stop()
            raise
        return self

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def stop(self) -> None:
        for name in list(self.processes):
            process = self.processes.pop(name)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        if self.database:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self.database = None
        if self.redis_db is not None:
            import redis

            redis.Redis(host="127.0.0.1", port=6379, db=self.redis_db).flushdb()  # releases the claim too
            self.redis_db = None

    def logs(self, tail: int = 60) -> str:
        return logs_tail(self.workdir, tail)

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
