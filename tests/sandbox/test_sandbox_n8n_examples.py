"""The example n8n workflows are valid workflow JSON that calls the gateway's real endpoints."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "n8n"
# Node types the examples use, with typeVersions that real n8n releases ship.
KNOWN_NODES = {"n8n-nodes-base.webhook": {1, 1.1, 2}, "n8n-nodes-base.httpRequest": {4, 4.1, 4.2},
               "n8n-nodes-base.scheduleTrigger": {1, 1.1, 1.2}, "n8n-nodes-base.splitOut": {1},
               "n8n-nodes-base.code": {1, 2}, "n8n-nodes-base.manualTrigger": {1}}
EXPECTED = {
    "incoming-reply.json": ["n8n-nodes-base.webhook", "n8n-nodes-base.httpRequest"],
    "poll-unread-reply.json": ["n8n-nodes-base.scheduleTrigger", "n8n-nodes-base.httpRequest",
                               "n8n-nodes-base.splitOut", "n8n-nodes-base.httpRequest"],
    "bulk-send.json": ["n8n-nodes-base.manualTrigger", "n8n-nodes-base.code", "n8n-nodes-base.httpRequest"],
}
GATEWAY_CALLS = {
    "incoming-reply.json": [("POST", "/api/messages/send")],
    "poll-unread-reply.json": [("GET", "/api/messages/unread/all"), ("POST", "/api/messages/send")],
    "bulk-send.json": [("POST", "/api/messages/send/bulk")],
}


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


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_http_nodes_call_the_gateway_with_the_api_key(name):
    calls = []
    for node in chain(load(name)):
        if node["type"] != "n8n-nodes-base.httpRequest":
            continue
        parameters = node["parameters"]
        url = re.fullmatch(r"=\{\{ \$env\.AVITOGW_URL \}\}(/api/[a-z/]+)", parameters["url"])
        assert url, parameters["url"]
        calls.append((parameters.get("method", "GET"), url.group(1)))
        headers = {h["name"]: h["value"] for h in parameters["headerParameters"]["parameters"]}
        assert headers["X-API-Key"] == "={{ $env.AVITOGW_API_KEY }}"
        if parameters.get("sendBody"):
            assert parameters["specifyBody"] == "json" and parameters["jsonBody"].startswith("={{")
    assert calls == GATEWAY_CALLS[name]


def test_replies_use_the_normalized_delivery_fields():
    incoming = chain(load("incoming-reply.json"))
    assert incoming[0]["parameters"]["httpMethod"] == "POST"
    assert "$json.body.external_chat_id" in incoming[1]["parameters"]["jsonBody"]
    polled = chain(load("poll-unread-reply.json"))
    assert polled[1]["parameters"]["queryParameters"]["parameters"] == [{"name": "mark_read", "value": "true"}]
    assert polled[2]["parameters"]["fieldToSplitOut"] == "messages"
    assert "$json.external_chat_id" in polled[3]["parameters"]["jsonBody"]
    code = chain(load("bulk-send.json"))[1]["parameters"]["jsCode"]
    assert "chat_id" in code and "text" in code and "return [{ json: { messages } }]" in code


NODE = shutil.which("node")


def run_js(source: str) -> object:
    completed = subprocess.run([NODE, "-e", source], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(completed.stdout)


def expression(value: str) -> str:
    """The JavaScript inside an n8n ``={{ ... }}`` expression."""
    match = re.fullmatch(r"=\{\{(.*)\}\}", value, re.S)
    assert match, value
    return match.group(1)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_javascript_runs_and_builds_the_gateways_bodies():
    code = chain(load("bulk-send.json"))[1]["parameters"]["jsCode"]
    [item] = run_js(f"const out = (() => {{ {code} }})(); console.log(JSON.stringify(out));")
    assert item["json"]["messages"] and all(set(m) == {"chat_id", "text"} for m in item["json"]["messages"])
    bulk_body = expression(chain(load("bulk-send.json"))[2]["parameters"]["jsonBody"])
    sent = run_js(f"const $json = {json.dumps(item['json'])}; console.log({bulk_body});")
    assert sent == item["json"]

    delivery = {"external_chat_id": "u2i-abc", "client_name": "Анна", "event_id": "e1", "text": "Привет"}
    incoming = expression(chain(load("incoming-reply.json"))[1]["parameters"]["jsonBody"])
    reply = run_js(f"const $json = {{body: {json.dumps(delivery)}}}; console.log({incoming});")
    assert reply["chat_id"] == "u2i-abc" and "Анна" in reply["text"] and len(reply["text"]) <= 1000
    polled = expression(chain(load("poll-unread-reply.json"))[3]["parameters"]["jsonBody"])
    reply = run_js(f"const $json = {json.dumps({**delivery, 'client_name': ''})}; console.log({polled});")
    assert reply["chat_id"] == "u2i-abc" and reply["text"].startswith("Здравствуйте!")
