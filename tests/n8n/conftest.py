"""The real-n8n suite (marker `n8n`) runs only when asked for: `-m n8n` or AVITOGW_N8N_TESTS=1.

It costs minutes (n8n's install, once, then about two minutes per run), so the default `./test.sh`
skips it. The fixture `loop` is the whole chain: the Avito sandbox, the gateway (gunicorn, Celery
worker and beat; the local PostgreSQL and Redis, as in production), and n8n 2.8.4 with the
package, the credential and the example workflows.
"""
from __future__ import annotations

import copy
import json
import os

import pytest
import requests

from tests.e2e.stack import ROOT, Stack
from tests.n8n.package import ensure_built
from tests.n8n.runtime import N8n

EXAMPLES = ROOT / "examples" / "n8n"
CREDENTIAL_ID = "AvitogwGateway01"  # the id the examples refer to
REPLY_WORKFLOW_ID = "AvitogwReply0001"
BULK_WORKFLOW_ID = "AvitogwBulk00001"
BULK_PATH = "avitogw-bulk-test"
NODES_WORKFLOW_ID = "AvitogwNodes0001"
NODES_PATH = "avitogw-nodes-test"
HTTP_WORKFLOW_ID = "AvitogwHttp00001"
# What examples/n8n/README.md says the plain-HTTP example needs; the package's examples use neither
# $env nor a Code node (tests/sandbox/test_sandbox_n8n_examples.py), so these settings do not touch them.
PLAIN_HTTP_SETTINGS = {"NODE_FUNCTION_ALLOW_BUILTIN": "crypto", "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false"}


def pytest_collection_modifyitems(config, items):
    asked = "n8n" in (config.getoption("markexpr") or "") or os.environ.get("AVITOGW_N8N_TESTS") == "1"
    if asked:
        return
    skip = pytest.mark.skip(reason="real n8n: run with `-m n8n` (or AVITOGW_N8N_TESTS=1)")
    for item in items:
        if item.get_closest_marker("n8n"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def gateway_settings():
    """The processes read their own environment; the in-process settings fixture does not apply."""
    yield


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def bulk_by_webhook() -> dict:
    """bulk-offer.json with its Manual Trigger swapped for a Webhook that answers with the last node's output
    (a manual trigger cannot be started from outside a running n8n); every other node as shipped."""
    workflow = copy.deepcopy(example("bulk-offer.json"))
    [manual] = [node for node in workflow["nodes"] if node["type"] == "n8n-nodes-base.manualTrigger"]
    manual.update({"type": "n8n-nodes-base.webhook", "typeVersion": 2, "webhookId": "0b6d8f3e-5c1a-4e2b-9f7d-1a2b3c4d5e6f",
                   "parameters": {"httpMethod": "POST", "path": BULK_PATH, "responseMode": "lastNode",
                                  "responseData": "allEntries", "options": {}}})
    return {**workflow, "id": BULK_WORKFLOW_ID}


def image_then_failing_send() -> dict:
    """A webhook's base64 PNG becomes binary data, is sent with Send Image (multipart `file`), then a send to a
    chat that does not exist fails with "Continue On Fail" (onError continueRegularOutput): the answer is the
    error item."""
    credentials = {"avitogwApi": {"id": CREDENTIAL_ID, "name": "avitogw"}}
    nodes = [
        {"id": "1d6c0a52-7d0b-4e1e-9a51-3f1e2d3c4b5a", "name": "Run", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
         "position": [0, 0], "webhookId": "2e7d1b63-8e1c-4f2f-8b62-4a2f3e4d5c6b",
         "parameters": {"httpMethod": "POST", "path": NODES_PATH, "responseMode": "lastNode",
                        "responseData": "allEntries", "options": {}}},
        {"id": "3f8e2c74-9f2d-4a3a-9c73-5b3a4f5e6d7c", "name": "To file", "type": "n8n-nodes-base.convertToFile",
         "typeVersion": 1.1, "position": [220, 0],
         "parameters": {"operation": "toBinary", "sourceProperty": "body.png", "binaryPropertyName": "data",
                        "options": {"fileName": "photo.png", "mimeType": "image/png"}}},
        {"id": "4a9f3d85-0a3e-4b4b-8d84-6c4b5a6f7e8d", "name": "Send image", "type": "n8n-nodes-avitogw.avitogw",
         "typeVersion": 1, "position": [440, 0], "credentials": credentials,
         "parameters": {"resource": "message", "operation": "sendImage", "imageSource": "binary",
                        "chatId": "={{ $('Run').item.json.body.chat_id }}", "binaryPropertyName": "data"}},
        {"id": "5b0a4e96-1b4f-4c5c-9e95-7d5c6b7a8f9e", "name": "Send to nowhere", "type": "n8n-nodes-avitogw.avitogw",
         "typeVersion": 1, "position": [660, 0], "credentials": credentials, "onError": "continueRegularOutput",
         "parameters": {"resource": "message", "operation": "sendText", "text": "x",
                        "chatId": "={{ $('Run').item.json.body.bad_chat_id }}"}},
    ]
    names = [node["name"] for node in nodes]
    return {"id": NODES_WORKFLOW_ID, "name": "avitogw node checks", "nodes": nodes, "active": False,
            "settings": {"executionOrder": "v1"}, "pinData": {},
            "connections": {a: {"main": [[{"node": b, "type": "main", "index": 0}]]} for a, b in zip(names, names[1:])}}


def plain_http_reply(gateway_url: str) -> dict:
    """incoming-reply-http.json with its URL set to the gateway, as its README tells the user to do."""
    workflow = copy.deepcopy(example("incoming-reply-http.json"))
    [reply] = [node for node in workflow["nodes"] if node["type"] == "n8n-nodes-base.httpRequest"]
    reply["parameters"]["url"] = reply["parameters"]["url"].replace("http://127.0.0.1:8765", gateway_url)
    return {**workflow, "id": HTTP_WORKFLOW_ID}


def trigger_url(n8n: N8n, workflow: dict) -> str:
    [trigger] = [node for node in workflow["nodes"] if node["type"] == "n8n-nodes-avitogw.avitogwTrigger"]
    return f"{n8n.url}/webhook/{trigger['webhookId']}/webhook"


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    dist = ensure_built(install=True)
    n8n = N8n(tmp_path_factory.mktemp("n8n"))
    reply = {**example("incoming-reply.json"), "id": REPLY_WORKFLOW_ID}
    webhook_url = trigger_url(n8n, reply)
    stack = Stack(tmp_path_factory.mktemp("gateway"), flavour="postgres", n8n_url=webhook_url)
    try:
        stack.start()
        answer = requests.post(f"{stack.base_url}/api/webhook/subscribe", json={}, headers=stack.headers, timeout=30)
        assert answer.status_code == 200, answer.text

        n8n.install_package(dist)
        n8n.env.update({**PLAIN_HTTP_SETTINGS, "AVITOGW_WEBHOOK_SECRET": stack.n8n_secret})
        n8n.import_credentials([{
            "id": CREDENTIAL_ID, "name": "avitogw", "type": "avitogwApi",
            "data": {"baseUrl": stack.base_url, "apiKey": stack.api_key, "signingSecret": stack.n8n_secret},
        }, {
            "id": "AvitogwApiKey001", "name": "avitogw API key", "type": "httpHeaderAuth",
            "data": {"name": "X-API-Key", "value": stack.api_key},
        }])
        shipped = [{**example(name), "id": f"AvitogwShipped{index:02d}"}  # imported as they are, not published
                   for index, name in enumerate(["poll-unread-reply.json", "bulk-offer.json"])]
        n8n.import_workflows([reply, bulk_by_webhook(), image_then_failing_send(), plain_http_reply(stack.base_url),
                              *shipped])
        for workflow_id in (REPLY_WORKFLOW_ID, BULK_WORKFLOW_ID, NODES_WORKFLOW_ID, HTTP_WORKFLOW_ID):
            n8n.publish(workflow_id)
        n8n.start(ready_url=webhook_url)
    except BaseException:
        print(stack.logs(), "\n----- n8n -----\n", n8n.log())
        n8n.stop()
        stack.stop()
        raise
    yield {"n8n": n8n, "stack": stack, "webhook_url": webhook_url, "bulk_url": f"{n8n.url}/webhook/{BULK_PATH}",
           "nodes_url": f"{n8n.url}/webhook/{NODES_PATH}", "plain_http_url": f"{n8n.url}/webhook/avito-incoming"}
    n8n.stop()
    stack.stop()
