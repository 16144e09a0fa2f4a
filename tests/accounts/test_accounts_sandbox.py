"""Accounts against the real Avito sandbox process serving two accounts: account B added through the API
with its sandbox credentials, checked, revoked in the sandbox, checked again (failing); default untouched."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

from tests.sandbox.sandbox_testkit import SandboxProcess, free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]
A, B = 4100001, 4100002


@pytest.fixture(scope="module")
def sandbox():
    port = free_port()
    process = SandboxProcess([sys.executable, "-m", "sandbox.server", "--port", str(port), "--chats", "2",
                              "--accounts", "2", "--user-id", str(A)], port=port, cwd=str(ROOT))
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


@pytest.fixture
def gateway(settings, sandbox):
    settings.AVITO_API_BASE_URL = sandbox.url
    settings.AVITO_CLIENT_ID, settings.AVITO_CLIENT_SECRET, settings.AVITO_USER_ID = f"client-{A}", f"secret-{A}", A
    settings.PUBLIC_BASE_URL = "http://gateway.test"
    requests.post(f"{sandbox.url}/_sandbox/accounts/{B}/restore", timeout=5)
    return settings


def test_account_b_is_added_checked_and_fails_alone_when_revoked(api, gateway, sandbox):
    created = api.post("/api/accounts", {"slug": "b", "client_id": f"client-{B}", "client_secret": f"secret-{B}",
                                         "metadata": {"brand": "B"}}, format="json")
    assert created.status_code == 201, created.content
    listed = {a["user_id"]: a for a in requests.get(f"{sandbox.url}/_sandbox/accounts", timeout=5).json()["accounts"]}
    assert created.json()["avito_user_id"] == B and created.json()["name"] == listed[B]["name"]
    assert api.post("/api/accounts/b/check").json()["state"] == "active"

    assert requests.post(f"{sandbox.url}/_sandbox/accounts/{B}/revoke", timeout=5).ok
    failing = api.post("/api/accounts/b/check").json()
    assert failing["state"] == "failing" and failing["state_reason"].startswith("credentials_refused")

    default = api.post("/api/accounts/default/check").json()
    assert default["state"] == "active" and default["avito_user_id"] == A
    assert api.get("/api/chats").status_code == 200  # the unprefixed routes: still the default account's

    requests.post(f"{sandbox.url}/_sandbox/accounts/{B}/restore", timeout=5)
    assert api.post("/api/accounts/b/check").json()["state"] == "active"


def test_refused_credentials_save_nothing(api, gateway):
    refused = api.post("/api/accounts", {"slug": "c", "client_id": f"client-{B}", "client_secret": "wrong"},
                       format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "credentials_refused"
    assert api.get("/api/accounts/c").status_code == 404
