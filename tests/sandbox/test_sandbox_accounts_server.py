"""Several accounts served for real (``python -m sandbox.server --accounts 3``), over HTTP, webhooks included."""

import sys
from pathlib import Path

import pytest
import requests

from sandbox_testkit import SandboxProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
IDS = (4000001, 4000002, 4000003)


@pytest.fixture(scope="module")
def served():
    port = free_port()
    process = SandboxProcess([sys.executable, "-m", "sandbox.server", "--port", str(port), "--chats", "4",
                              "--accounts", "3", "--user-id", str(IDS[0]), "--rate", "5/60"],
                             port=port, cwd=str(ROOT))
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def session_for(served, user_id: int) -> requests.Session:
    session = requests.Session()
    answer = session.post(f"{served.url}/token", timeout=5, data={
        "grant_type": "client_credentials", "client_id": f"client-{user_id}", "client_secret": f"secret-{user_id}"})
    assert answer.status_code == 200, answer.text
    session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return session


def test_prints_every_accounts_credentials(served):
    log = served.log()
    assert "3 accounts" in log
    for user_id in IDS:
        assert f"account id {user_id} (" in log and f"client_id=client-{user_id} client_secret=secret-{user_id}" in log


def test_one_accounts_429_storm_leaves_the_others_alone(served):
    a, b = session_for(served, IDS[0]), session_for(served, IDS[1])
    assert a.get(f"{served.url}/core/v1/accounts/self", timeout=5).json()["id"] == IDS[0]
    storm = [a.get(f"{served.url}/messenger/v2/accounts/{IDS[0]}/chats", timeout=5).status_code for _ in range(6)]
    assert storm[-1] == 429 and storm.count(429) >= 2
    calm = b.get(f"{served.url}/messenger/v2/accounts/{IDS[1]}/chats", timeout=5)
    assert calm.status_code == 200 and calm.json()["chats"]
    assert b.get(f"{served.url}/messenger/v2/accounts/{IDS[0]}/chats", timeout=5).status_code == 403
    stats = requests.get(f"{served.url}/_sandbox/stats", timeout=5).json()["accounts"]
    assert stats[str(IDS[0])]["rate_limited"] >= 2 and stats[str(IDS[1])]["rate_limited"] == 0


def test_revoked_credentials_and_per_account_webhooks(served, receiver):
    c = session_for(served, IDS[2])
    c.post(f"{served.url}/messenger/v3/webhook", json={"url": receiver.url}, timeout=5)
    chat_id = c.get(f"{served.url}/messenger/v2/accounts/{IDS[2]}/chats", timeout=5).json()["chats"][0]["id"]
    typed = requests.post(f"{served.url}/_sandbox/app_messages", json={"chat_id": chat_id, "text": "из приложения"},
                          timeout=5)
    assert typed.status_code == 200 and typed.json()["notified"] == 1
    [echo] = receiver.wait_for(1)
    assert echo["json"]["payload"]["value"]["user_id"] == echo["json"]["payload"]["value"]["author_id"] == IDS[2]
    assert requests.post(f"{served.url}/_sandbox/accounts/{IDS[2]}/revoke", timeout=5).status_code == 200
    try:
        assert c.get(f"{served.url}/core/v1/accounts/self", timeout=5).status_code == 401
        refused = requests.post(f"{served.url}/token", timeout=5, data={
            "grant_type": "client_credentials", "client_id": f"client-{IDS[2]}", "client_secret": f"secret-{IDS[2]}"})
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_client"
        assert session_for(served, IDS[1]).get(f"{served.url}/core/v1/accounts/self", timeout=5).status_code == 200
    finally:
        requests.post(f"{served.url}/_sandbox/accounts/{IDS[2]}/restore", timeout=5)
    assert c.get(f"{served.url}/core/v1/accounts/self", timeout=5).status_code == 200
