"""The web process alone, as production starts it: gunicorn with gunicorn.conf.py on SQLite, no Redis.

For tests of what only a real server shows (how a body arrives on the socket, what a browser
is sent); tests/e2e/stack.py starts the whole gateway when a test needs the worker too.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.e2e.stack import free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]


def production_env(data_dir: Path, **extra: str) -> dict:
    """The environment of a production start (no pytest, no test settings), on its own DATA_DIR."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))},
            "SECRET_KEY": "s" * 50, "DATA_DIR": str(data_dir), "AVITO_WEBHOOK_SECRET": "x" * 12, **extra}


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=120)


@contextmanager
def gunicorn_alone(data_dir: Path, **extra_env: str):
    """Migrated, started, answering /health: yields (base URL, environment); stopped afterwards."""
    port = free_port()
    env = production_env(data_dir, SERVER_HOST="127.0.0.1", SERVER_PORT=str(port), WEB_CONCURRENCY="1", **extra_env)
    manage(env, "migrate", "-v", "0")
    log = open(data_dir.parent / f"web-{port}.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "avitogw.wsgi:application"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/health", timeout=1).status_code, 60, "gunicorn")
        yield url, env
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
