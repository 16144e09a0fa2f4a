"""The Code node of docs/n8n.md, run by Node.js with stand-ins for n8n, accepts what we sign and nothing else."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from core.n8n.signing import signed_headers

pytestmark = pytest.mark.skipif(not shutil.which("node"), reason="Node.js is not installed")
HARNESS = Path(__file__).with_name("n8n_code_node.mjs")
BODY = json.dumps({"event_id": "avito-msg-1", "text": "Привет"}, ensure_ascii=False)


def code_node(secret: str, headers: dict, body: str) -> str:
    args = [secret, headers["webhook-id"], headers["webhook-timestamp"], body, headers["webhook-signature"]]
    return subprocess.run(["node", str(HARNESS), *args], capture_output=True, text=True, timeout=30).stdout


@pytest.mark.parametrize("secret", ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "пароль n8n"])
def test_the_documented_code_node_accepts_our_signature(secret):
    headers = signed_headers(msg_id="avito-msg-1", payload=BODY.encode(), secret=secret)
    out = code_node(secret, headers, BODY)
    assert out.startswith("OK ")
    assert json.loads(out[3:]) == [{"json": {"event_id": "avito-msg-1", "text": "Привет", "webhook_id": "avito-msg-1"}}]


def test_the_documented_code_node_refuses_a_tampered_body_or_a_wrong_secret():
    headers = signed_headers(msg_id="avito-msg-1", payload=BODY.encode(), secret="right")
    assert code_node("right", headers, BODY.replace("Привет", "Пока")).startswith("REJECTED")
    assert code_node("wrong", headers, BODY).startswith("REJECTED")


def test_the_documented_code_node_passes_messages_on_and_nothing_else_the_gateway_signs():
    """A bulk job's callback is signed with the same secret; aimed at this workflow's URL it must not reach the
    reply nodes. A body without `event` (a gateway before it was added) is a message."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    outputs = []
    for body in ({"event": "bulk_job.finished", "job_id": "j1", "status": "completed"},
                 {"event": "message", "event_id": "avito-msg-1"}, {"event_id": "avito-msg-1"}):
        raw = json.dumps(body)
        out = code_node(secret, signed_headers(msg_id="x-1", payload=raw.encode(), secret=secret), raw)
        assert out.startswith("OK "), out
        outputs.append([item["json"].get("event", "absent") for item in json.loads(out[3:])])
    assert outputs == [[], ["message"], ["absent"]]
