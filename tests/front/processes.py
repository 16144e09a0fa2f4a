"""gunicorn as the Procfile starts it (gunicorn.conf.py), with the environment a test chooses, for the
front-door tests: what a client on the network can do to the web process itself."""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from tests.e2e.stack import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]


def outward_address() -> str | None:
    """An address of this machine other than loopback (the route to a documentation address; nothing is
    sent), so a test can call the gateway as a caller from the network would; None without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@contextlib.contextmanager
def gunicorn(workdir: Path, *, host: str = "127.0.0.1", migrate: bool = False, **env: str):
    """gunicorn on a free port (after `manage.py migrate` if asked); yields its port. Stopped (SIGTERM,
    then SIGKILL) on the way out."""
    port = free_port()
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))},
                   "SECRET_KEY": "s" * 50, "DATA_DIR": str(workdir / "data"), "SERVER_HOST": host,
                   "SERVER_PORT": str(port), "WEB_CONCURRENCY": "1", "AVITO_WEBHOOK_SECRET": "x" * 12,
                   "API_KEY": "", "ALLOWED_HOSTS": ",".join(filter(None, ["127.0.0.1", outward_address()])), **env}
    if migrate:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=environment,
                       check=True, timeout=180)
    log = open(workdir / "web.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "avitogw.wsgi:application"],
                               cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code, 60, "gunicorn")
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
