"""gunicorn as started in production: static files without collectstatic, its own errors in the envelope.

The admin's CSS is served by gunicorn itself, even where collectstatic never ran: any start path (the Procfile, docker compose, a bare `gunicorn` command) must show a
styled admin: whitenoise finds the files in the installed apps (WHITENOISE_USE_FINDERS).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.e2e.stack import free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))},
           "SECRET_KEY": "s" * 50, "DATA_DIR": str(tmp_path / "fresh"), "SERVER_HOST": "127.0.0.1",
           "SERVER_PORT": str(port), "WEB_CONCURRENCY": "1", "AVITO_WEBHOOK_SECRET": "x" * 12}
    log = open(tmp_path / "web.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "avitogw.wsgi:application"],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{url}/health", timeout=1).status_code, 30, "gunicorn")
        yield url, tmp_path / "fresh" / "static"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        log.close()


@pytest.mark.timeout(60)
def test_admin_css_is_served_from_a_fresh_static_root(gunicorn):
    url, static_root = gunicorn
    assert not any(static_root.iterdir())  # nothing collected
    for path in ("/static/admin/css/base.css", "/static/admin/css/login.css", "/static/rest_framework/css/default.css"):
        response = requests.get(url + path, timeout=5)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith("text/css")


@pytest.mark.timeout(60)
def test_gunicorns_own_refusals_are_in_the_envelope(gunicorn):
    url, _ = gunicorn
    response = requests.get(f"{url}/api/chats?item_ids={'1,' * 5000}", timeout=5)
    assert response.status_code == 414
    assert response.json() == {"error": {"code": "uri_too_long", "message": "URI Too Long.", "details": None}}
