"""The web process (avitogw/wsgi.py, what gunicorn imports before forking) refuses to start when the
database holds encrypted account secrets and ENCRYPTION_KEYS is not set, naming the variable; with the
key it starts, and so does an existing single-account install without any key."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def test_the_web_process_refuses_sealed_secrets_without_a_key(tmp_path):
    database = tmp_path / "gateway.sqlite3"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_", "AVITO", "ENCRYPTION"))}
    env = {**base, "SECRET_KEY": "t-" + "k" * 60, "DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{database}",
           "REDIS_URL": ""}

    def run(*args: str, **extra) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=ROOT, env={**env, **extra}, capture_output=True,
                              text=True, timeout=120)

    assert run("manage.py", "migrate", "--noinput", "-v", "0").returncode == 0
    start = ("import avitogw.wsgi",)
    assert run("-c", *start).returncode == 0  # nothing sealed: an existing install starts without a key

    key = Fernet.generate_key().decode()
    with sqlite3.connect(database) as db:
        db.execute("INSERT INTO accounts_account (slug, name, avito_user_id, client_id, client_secret, webhook_secret, "
                   "n8n_webhook_url, metadata, state, state_reason, created_at, updated_at) VALUES ('b', 'B', 7, 'c', ?,"
                   " 'w', '', '{}', 'active', '', '2026-01-01', '2026-01-01')",
                   (Fernet(key.encode()).encrypt(b"s").decode(),))
    refused = run("-c", *start)
    assert refused.returncode != 0 and "ENCRYPTION_KEYS" in refused.stderr
    assert run("-c", *start, ENCRYPTION_KEYS=key).returncode == 0
    checked = run("manage.py", "check", "--database", "default")
    assert checked.returncode != 0 and "accounts.E001" in checked.stderr
