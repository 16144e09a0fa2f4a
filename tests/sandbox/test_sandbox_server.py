"""The sandbox served for real: gunicorn embedded (one worker, threads), over HTTP, webhooks included."""

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from sandbox_testkit import SandboxProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
FORM = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret"}


@pytest.fixture(scope="module")
def served():
    port = free_port()
    process = SandboxProcess([sys.executable, "-m", "sandbox.server", "--port", str(port), "--chats", "8",
                              "--rate", "500/60", "--user-id", "4242", "--seed", "5"], port=port, cwd=str(ROOT))
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def test_prints_where_it_listens(served):
    assert f"Avito sandbox listening on {served.url}" in served.log()
    assert "account id 4242" in served.log()


def test_token_then_chats_over_keep_alive(served):
    with requests.Session() as session:
        token = session.post(f"{served.url}/token", data=FORM, timeout=5).json()["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        answer = session.get(f"{served.url}/messenger/v2/accounts/4242/chats", timeout=5)
        assert answer.status_code == 200 and answer.json()["chats"]
        assert answer.headers["X-RateLimit-Limit"] == "500"
        assert answer.headers.get("Connection", "keep-alive").lower() == "keep-alive"


def test_parallel_requests_share_one_state(served):
    token = requests.post(f"{served.url}/token", data=FORM, timeout=5).json()["access_token"]
    chat_id = requests.get(f"{served.url}/messenger/v2/accounts/4242/chats", timeout=5,
                           headers={"Authorization": f"Bearer {token}"}).json()["chats"][0]["id"]

    def send(index: int) -> int:
        return requests.post(f"{served.url}/messenger/v1/accounts/4242/chats/{chat_id}/messages", timeout=10,
                             headers={"Authorization": f"Bearer {token}"},
                             json={"message": {"text": f"параллельно {index}"}, "type": "text"}).status_code

    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(send, range(32))) == [200] * 32
    stats = requests.get(f"{served.url}/_sandbox/stats", timeout=5).json()
    assert stats["sends"] >= 32 and stats["requests"]["postSendMessage"] >= 32


def test_webhooks_are_posted_from_the_worker(served, receiver):
    token = requests.post(f"{served.url}/token", data=FORM, timeout=5).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    requests.post(f"{served.url}/messenger/v3/webhook", json={"url": receiver.url}, headers=headers, timeout=5)
    chat_id = requests.get(f"{served.url}/messenger/v2/accounts/4242/chats", headers=headers,
                           timeout=5).json()["chats"][0]["id"]
    made = requests.post(f"{served.url}/_sandbox/messages", json={"chat_id": chat_id, "text": "Алло"}, timeout=5)
    assert made.status_code == 200 and made.json()["notified"] == 1
    [delivery] = receiver.wait_for(1)
    assert delivery["json"]["payload"]["value"]["content"] == {"text": "Алло"}
    requests.post(f"{served.url}/messenger/v1/webhook/unsubscribe", json={"url": receiver.url},
                  headers=headers, timeout=5)


def test_a_chunked_body_is_read_whole(served):
    token = requests.post(f"{served.url}/token", data=FORM, timeout=5).json()["access_token"]
    # A generator body makes requests send it chunked, without Content-Length.
    body = (part for part in (b'{"url": ', b'"http://127.0.0.1:9/chunked"}'))
    answer = requests.post(f"{served.url}/messenger/v3/webhook", data=body, timeout=5,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    listed = requests.post(f"{served.url}/messenger/v1/subscriptions", timeout=5,
                           headers={"Authorization": f"Bearer {token}"}).json()["subscriptions"]
    assert {"url": "http://127.0.0.1:9/chunked", "version": "3"} in listed
    requests.post(f"{served.url}/messenger/v1/webhook/unsubscribe", json={"url": "http://127.0.0.1:9/chunked"},
                  headers={"Authorization": f"Bearer {token}"}, timeout=5)
