"""``manage.py avito_sandbox``: the Django entry point starts the same server with the same flags.

It runs under the default (production) settings: the sandbox is no app of any of them.
Skipped when the Django project (manage.py, avitogw.settings) is not there.
"""

import os
import sys
from pathlib import Path

import pytest
import requests

from sandbox_testkit import SandboxProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not (ROOT / "manage.py").exists() or not (ROOT / "avitogw" / "settings").is_dir(),
                                reason="the Django project is not set up")


def test_command_serves_the_gateways_account_by_default():
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update({"DJANGO_SETTINGS_MODULE": "avitogw.settings", "AVITO_USER_ID": "7654321",
                "SECRET_KEY": env.get("SECRET_KEY") or "sandbox-command-test-" + "k" * 50})
    process = SandboxProcess([sys.executable, "manage.py", "avito_sandbox", "--port", str(port), "--chats", "3",
                              "--client-id", "gw", "--client-secret", "s3cret"], port=port, env=env, cwd=str(ROOT))
    try:
        process.wait_ready()
        assert f"listening on http://127.0.0.1:{port}" in process.log()
        refused = requests.post(f"{process.url}/token", timeout=5, data={
            "grant_type": "client_credentials", "client_id": "gw", "client_secret": "wrong"})
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"
        token = requests.post(f"{process.url}/token", timeout=5, data={
            "grant_type": "client_credentials", "client_id": "gw", "client_secret": "s3cret"}).json()["access_token"]
        chats = requests.get(f"{process.url}/messenger/v2/accounts/7654321/chats", timeout=5,
                             headers={"Authorization": f"Bearer {token}"})
        assert chats.status_code == 200 and chats.json()["chats"]
    finally:
        process.stop()


def test_command_takes_the_account_flags():
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update({"DJANGO_SETTINGS_MODULE": "avitogw.settings", "AVITO_USER_ID": "7654321",
                "SECRET_KEY": env.get("SECRET_KEY") or "sandbox-command-test-" + "k" * 50})
    process = SandboxProcess([sys.executable, "manage.py", "avito_sandbox", "--port", str(port), "--chats", "1",
                              "--accounts", "2", "--account", "7654321"], port=port, env=env, cwd=str(ROOT))
    try:
        process.wait_ready()
        assert "client_id=client-7654322 client_secret=secret-7654322" in process.log()
        token = requests.post(f"{process.url}/token", timeout=5, data={
            "grant_type": "client_credentials", "client_id": "client-7654322",
            "client_secret": "secret-7654322"}).json()["access_token"]
        me = requests.get(f"{process.url}/core/v1/accounts/self", timeout=5, headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["id"] == 7654322
    finally:
        process.stop()
