"""The gateway as real processes for the resilience tests, on whatever database and Redis a test gives.

`Gateway` runs gunicorn (the production config, 2 workers), a Celery worker and, when asked,
Celery beat, with one environment and a log file per process. Avito and n8n are the
tests/webhooks stand-in. `PostgresCluster` and `RedisServer` are servers of the test's own,
on free ports in a temporary folder, that the test may stop and start: the machine's shared
servers are never touched.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from tests.e2e.stack import free_port, logs_tail, stop_process_groups, wait_until

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = 1234567
PATH_SECRET = "path-secret-9c1e"
N8N_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
API_KEY = "resilience-key-" + "k" * 20


class Gateway:
    def __init__(self, workdir: Path, *, standin, env: dict[str, str]):
        self.workdir, self.port = workdir, free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
        self.env = {**base, "DJANGO_SETTINGS_MODULE": "avitogw.settings", "SECRET_KEY": "t-" + "k" * 60,
                    "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1", "DATA_DIR": str(workdir / "data"),
                    "DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": "",
                    "SERVER_HOST": "127.0.0.1", "SERVER_PORT": str(self.port), "WEB_CONCURRENCY": "2",
                    "AVITO_API_BASE_URL": standin.url, "AVITO_USER_ID": str(ACCOUNT), "AVITO_CLIENT_ID": "c",
                    "AVITO_CLIENT_SECRET": "s", "AVITO_WEBHOOK_SECRET": PATH_SECRET, "API_KEY": API_KEY,
                    "N8N_WEBHOOK_URL": standin.n8n_url, "N8N_WEBHOOK_SECRET": N8N_SECRET,
                    "N8N_FORWARD_BACKOFF_BASE": "0.5", "N8N_FORWARD_BACKOFF_MAX": "2",
                    "EVENT_BACKOFF_BASE": "0.5", "EVENT_BACKOFF_MAX": "2",
                    "CONNECTION_TIMEOUT": "3", "MAX_RETRIES": "1", "RETRY_BACKOFF_BASE": "0.1",
                    "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", **env}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook/avito/{PATH_SECRET}"

    def start(self, *, beat: bool = True, worker: bool = True) -> "Gateway":
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env,
                       check=True, timeout=120)
        self.spawn("web", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "avitogw.wsgi:application"])
        wait_until(lambda: requests.get(self.url + "/health", timeout=1).status_code, 60, "gunicorn")
        if not worker:
            return self
        self.spawn("worker", [sys.executable, "-m", "celery", "-A", "avitogw", "worker", "--loglevel", "INFO",
                              "--concurrency", "2", "-n", f"res-{uuid.uuid4().hex[:6]}@%h"])
        if beat:
            self.spawn("beat", [sys.executable, "-m", "celery", "-A", "avitogw", "beat", "--loglevel", "INFO",
                                "-s", str(self.workdir / "beat-schedule")])
        return self

    def spawn(self, name: str, args: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def post_notification(self, body: dict) -> requests.Response:
        return requests.post(self.webhook_url, data=json.dumps(body, ensure_ascii=False).encode(),
                             headers={"Content-Type": "application/json"}, timeout=10)

    def api(self, method: str, path: str, *, headers: dict | None = None, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, headers={"X-API-Key": API_KEY, **(headers or {})},
                                timeout=30, **kwargs)

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        stop_process_groups(self.processes)

    def logs(self, tail: int = 40) -> str:
        return logs_tail(self.workdir, tail)


class RedisServer:
    """A redis-server of the test's own on a free port, without persistence, that it may kill and start."""

    def __init__(self, workdir: Path):
        self.workdir, self.port, self.process = workdir, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        import redis

        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=open(self.workdir / "redis.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: redis.Redis(port=self.port).ping(), 10, "redis-server")
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"no {name} under /usr/lib/postgresql/*/bin")
    return found[-1]


class PostgresCluster:
    """A PostgreSQL cluster of the test's own (`initdb` into a temporary folder, its own port), run as
    the `postgres` user when the test runs as root (initdb refuses root)."""

    def __init__(self):
        # Not under pytest's tmp_path: its folders are private to root, and the server runs as postgres.
        self.folder = Path(tempfile.mkdtemp(prefix="avitogw-pg-"))
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = list(args)
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, timeout=timeout, capture_output=True)

    def start(self) -> "PostgresCluster":
        if self.user:
            shutil.chown(self.folder, self.user)
        self._run(postgres_bin("initdb"), "-D", str(self.folder / "data"), "-U", "postgres", "-A", "trust",
                  "--no-sync", timeout=120)
        self._ctl("start", "-w", "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1")
        return self

    def _ctl(self, *args: str) -> None:
        self._run(postgres_bin("pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"),
                  *args, timeout=120)

    def restart(self, *, down_for: float = 0.0) -> None:
        """`pg_ctl restart -m fast`; with `down_for`, a stop, that many seconds down, and a start."""
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        if not down_for:
            self._ctl("restart", "-m", "fast", "-w", "-o", options)
            return
        self._ctl("stop", "-m", "fast", "-w")
        time.sleep(down_for)
        self._ctl("start", "-w", "-o", options)

    def stop(self) -> None:
        try:
            self._ctl("stop", "-m", "immediate", "-w")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def sql(self, query: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres") as conn:
            return conn.execute(query).fetchall()


class AvitoSandbox:
    """The Avito sandbox (`python -m sandbox.server`) as a process of the test's own: it records every
    send, so a test can count what reached "Avito"."""

    def __init__(self, workdir: Path):
        self.workdir, self.port, self.process = workdir, free_port(), None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    n8n_url = ""  # Gateway's stand-in interface: no n8n behind the sandbox

    def start(self) -> "AvitoSandbox":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.server", "--port", str(self.port), "--user-id", str(ACCOUNT),
             "--chats", "0"],
            cwd=ROOT, stdout=open(self.workdir / "sandbox.log", "ab"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_until(lambda: requests.get(f"{self.url}/_sandbox/stats", timeout=1).ok, 30, "the sandbox")
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process_groups({"sandbox": self.process})
            self.process = None

    def configure(self, **settings) -> dict:
        return requests.post(f"{self.url}/_sandbox/config", json=settings, timeout=10).json()

    def chat_create(self) -> str:
        return requests.post(f"{self.url}/_sandbox/chats", json={"notify": False}, timeout=10).json()["chat"]["id"]

    def outgoing(self, chat_id: str) -> list[dict]:
        """The account's own messages in the chat (what was sent to it), through Avito's own API."""
        token = requests.post(f"{self.url}/token", data={"grant_type": "client_credentials", "client_id": "c",
                                                         "client_secret": "s"}, timeout=10).json()["access_token"]
        body = requests.get(f"{self.url}/messenger/v3/accounts/{ACCOUNT}/chats/{chat_id}/messages/",
                            params={"limit": 100}, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        return [message for message in body["messages"] if message["direction"] == "out"]
