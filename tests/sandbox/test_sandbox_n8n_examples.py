"""The example n8n workflows: valid workflow JSON, on the package's nodes, reading the fields deliveries carry.

Three use the community node package (no `$env`, the credential `avitogwApi`); one uses only n8n's
own nodes, for an n8n that cannot install community nodes. Their expressions are run by Node.js
on a delivery as the gateway sends it. tests/n8n/test_examples_match_nodes.py checks their
parameters against the built nodes; tests/n8n/test_real_n8n.py runs them in a real n8n.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core.n8n.signing import signed_headers

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "n8n"
AVITOGW, TRIGGER = "n8n-nodes-avitogw.avitogw", "n8n-nodes-avitogw.avitogwTrigger"
# Node types the examples use, with typeVersions that real n8n releases (and the package) ship.
KNOWN_NODES = {"n8n-nodes-base.webhook": {2}, "n8n-nodes-base.httpRequest": {4.2},
               "n8n-nodes-base.scheduleTrigger": {1.2}, "n8n-nodes-base.code": {2},
               "n8n-nodes-base.manualTrigger": {1}, AVITOGW: {1}, TRIGGER: {1}}
EXPECTED = {
    "incoming-reply.json": [TRIGGER, AVITOGW],
    "poll-unread-reply.json": ["n8n-nodes-base.scheduleTrigger", AVITOGW, AVITOGW],
    "bulk-offer.json": ["n8n-nodes-base.manualTrigger", AVITOGW, AVITOGW],
    "incoming-reply-http.json": ["n8n-nodes-base.webhook", "n8n-nodes-base.code", "n8n-nodes-base.httpRequest"],
}
ON_THE_PACKAGE = ["incoming-reply.json", "poll-unread-reply.json", "bulk-offer.json"]
DELIVERY = {"channel": "avito", "event_id": "avito-msg-1", "external_user_id": "94235311",
            "external_chat_id": "u2i-abc", "client_name": "Анна", "text": "Привет",
            "meta": {"direction": "in", "chat_type": "u2i", "source": "webhook"}}


def load(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def chain(workflow: dict) -> list[dict]:
    """The nodes in the order the connections run them, from the single trigger."""
    by_name = {node["name"]: node for node in workflow["nodes"]}
    targets = {link["node"] for out in workflow["connections"].values() for link in out["main"][0]}
    [current] = [name for name in by_name if name not in targets]
    ordered = [by_name[current]]
    while current in workflow["connections"]:
        [link] = workflow["connections"][current]["main"][0]
        current = link["node"]
        ordered.append(by_name[current])
    return ordered


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_workflow_structure(name):
    workflow = load(name)
    assert workflow["name"] and workflow["active"] is False
    nodes = workflow["nodes"]
    assert len({node["id"] for node in nodes}) == len({node["name"] for node in nodes}) == len(nodes)
    for node in nodes:
        assert node["typeVersion"] in KNOWN_NODES[node["type"]], node["type"]
        assert isinstance(node["parameters"], dict) and len(node["position"]) == 2
    assert [node["type"] for node in chain(workflow)] == EXPECTED[name]


@pytest.mark.parametrize("name", ON_THE_PACKAGE)
def test_package_examples_use_the_credential_and_never_env(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert "$env" not in text and "jsCode" not in text
    for node in load(name)["nodes"]:
        if node["type"] in (AVITOGW, TRIGGER):
            assert set(node["credentials"]) == {"avitogwApi"}


def test_replies_answer_the_delivered_chat_once():
    for name, position in (("incoming-reply.json", 1), ("poll-unread-reply.json", 2)):
        reply = chain(load(name))[position]["parameters"]
        assert (reply["resource"], reply["operation"]) == ("message", "sendText")
        assert reply["chatId"] == "={{ $json.external_chat_id }}"
        assert reply["options"]["idempotencyKey"] == "=reply-{{ $json.event_id }}"
    take = chain(load("poll-unread-reply.json"))[1]["parameters"]
    assert (take["operation"], take["markRead"]) == ("unreadAll", True)
    assert chain(load("incoming-reply.json"))[0]["webhookId"]


def test_bulk_offer_looks_the_chats_up_and_fails_on_failed_items():
    _, find, send = chain(load("bulk-offer.json"))
    assert (find["parameters"]["resource"], find["parameters"]["operation"]) == ("chat", "list")
    parameters = send["parameters"]
    assert (parameters["resource"], parameters["operation"]) == ("bulk", "submit")
    assert parameters["chatId"] == "={{ $json.id }}"
    assert parameters["waitForCompletion"] is True and parameters["options"]["failOnItemErrors"] is True


def test_plain_http_example_checks_the_signature_then_reads_the_message_itself():
    hook, check, reply = chain(load("incoming-reply-http.json"))
    assert hook["parameters"]["httpMethod"] == "POST" and hook["parameters"]["options"]["rawBody"] is True
    documented = (ROOT / "docs" / "n8n.md").read_text(encoding="utf-8").split("```javascript\n")[1].split("```")[0]
    assert check["parameters"]["jsCode"] == documented
    body = reply["parameters"]["jsonBody"]
    assert "$json.external_chat_id" in body and "$json.body" not in body
    assert reply["parameters"]["genericAuthType"] == "httpHeaderAuth" and "$env" not in json.dumps(reply)


NODE = shutil.which("node")


def run_js(source: str) -> object:
    completed = subprocess.run([NODE, "-e", source], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(completed.stdout)


def evaluate(value: str, item: dict) -> object:
    """An n8n parameter value (`=` + text with {{ expressions }}) with `$json` = item, as Node.js computes it."""
    assert value.startswith("=")
    whole = re.fullmatch(r"=\{\{(.*)\}\}", value, re.S)
    source = whole.group(1) if whole else "`" + re.sub(r"\{\{(.*?)\}\}", r"${\1}", value[1:]) + "`"
    return run_js(f"const $json = {json.dumps(item, ensure_ascii=False)}; console.log(JSON.stringify({source}));")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_reply_expressions_build_the_gateways_request_from_a_delivery():
    reply = chain(load("incoming-reply.json"))[1]["parameters"]
    assert evaluate(reply["chatId"], DELIVERY) == "u2i-abc"
    text = evaluate(reply["text"], DELIVERY)
    assert "Анна" in text and len(text) <= 1000
    assert evaluate(reply["options"]["idempotencyKey"], DELIVERY) == "reply-avito-msg-1"
    assert evaluate(reply["text"], {**DELIVERY, "client_name": ""}).startswith("Здравствуйте!")


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_bulk_offer_text_names_the_item_or_falls_back():
    text = chain(load("bulk-offer.json"))[2]["parameters"]["text"]
    chat = {"id": "u2i-abc", "context": {"type": "item", "value": {"title": "iPhone 13"}}}
    assert "«iPhone 13»" in evaluate(text, chat)
    assert "«ваше объявление»" in evaluate(text, {"id": "u2i-abc"})


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_plain_http_reply_works_on_what_the_code_node_outputs():
    body = json.dumps(DELIVERY, ensure_ascii=False)
    headers = signed_headers(msg_id="avito-msg-1", payload=body.encode(), secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    harness = ROOT / "tests" / "webhooks" / "n8n_code_node.mjs"
    out = subprocess.run([NODE, str(harness), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers["webhook-id"],
                          headers["webhook-timestamp"], body, headers["webhook-signature"]],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.startswith("OK ")
    [item] = json.loads(out[3:])
    reply = chain(load("incoming-reply-http.json"))[2]["parameters"]
    sent = json.loads(evaluate(reply["jsonBody"], item["json"]))
    assert sent["chat_id"] == "u2i-abc" and "Анна" in sent["text"]
    assert evaluate(reply["headerParameters"]["parameters"][0]["value"], item["json"]) == "reply-avito-msg-1"
