"""The n8n action node's calls, run by Node.js from the built package against a local HTTP server.

Fast (no n8n, no gateway): action_node.mjs runs the node's execute() and its Account list with stand-ins
for n8n's context; a ThreadingHTTPServer started here records every request and answers like the
gateway. Asserted: the exact method, path and body for the Account (empty = today's routes, a slug =
`/api/accounts/{slug}/...` for every account-bound call), `sender` (in the body only for "human", so a
gateway from before contract §9 sees the same body as before), the chat automation operations, and a
malformed slug refused before anything is sent. Needs the package built, like test_trigger_checks.py.
"""
from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.n8n.package import build_reason, ensure_built

pytestmark = pytest.mark.skipif(build_reason() is not None, reason=str(build_reason()))
HARNESS = Path(__file__).with_name("action_node.mjs")
SLUG = "moscow-shop"


class FakeGateway(ThreadingHTTPServer):
    """Records each request as (method, path with query, headers, body) and answers from `answers`."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict] = []
        self.answers: dict[tuple[str, str], tuple[int, dict]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    def _answer(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type = self.headers.get("Content-Type") or ""
        body = None if not raw else json.loads(raw) if content_type.startswith("application/json") else raw.decode()
        self.server.requests.append({"method": self.command, "path": self.path, "body": body,
                                     "headers": {k.lower(): v for k, v in self.headers.items()}})
        status, answer = self.server.answers.get((self.command, self.path.split("?")[0]), (200, {"ok": True}))
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def dist():
    return ensure_built()


@pytest.fixture
def gateway():
    server = FakeGateway()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def run(dist: Path, gateway: FakeGateway, cases: list[dict]) -> list[dict]:
    cases = [{"baseUrl": gateway.url + "/", **c} for c in cases]
    completed = subprocess.run(["node", str(HARNESS), str(dist)], input=json.dumps(cases), capture_output=True,
                               text=True, timeout=60, check=True)
    return json.loads(completed.stdout)


def sent(gateway: FakeGateway) -> list[tuple[str, str, object]]:
    return [(r["method"], r["path"], r["body"]) for r in gateway.requests]


def send_text(**parameters) -> dict:
    return {"parameters": {"resource": "message", "operation": "sendText", "chatId": " u2i-1 ", "text": "Привет",
                           **parameters}}


# --- Account --------------------------------------------------------------------------------------------
def test_without_an_account_a_send_is_exactly_what_it_was(dist, gateway):
    """No Account, default sender: today's route and today's body, nothing more (the gateway refuses
    unknown fields)."""
    [result] = run(dist, gateway, [send_text()])
    assert result == {"ok": True, "output": [{"ok": True}]}
    assert sent(gateway) == [("POST", "/api/messages/send", {"chat_id": "u2i-1", "text": "Привет"})]
    assert gateway.requests[0]["headers"]["idempotency-key"] == "n8n:exec-1:node-1:sendText:0"
    assert gateway.requests[0]["headers"]["x-api-key"] == "test-key"


def test_an_account_moves_the_send_under_its_prefix(dist, gateway):
    run(dist, gateway, [send_text(account=SLUG), send_text(account=f"  {SLUG} ", sender="bot")])
    expected = ("POST", f"/api/accounts/{SLUG}/messages/send", {"chat_id": "u2i-1", "text": "Привет"})
    assert sent(gateway) == [expected] * 2


# Every account-bound call the node makes: its parameters and the unprefixed route it calls.
CALLS = [
    ({"resource": "message", "operation": "list", "chatId": "u2i-1"}, "GET",
     "/api/chats/u2i-1/messages?limit=50&offset=0"),
    ({"resource": "message", "operation": "delete", "chatId": "u2i-1", "messageId": "m/1"}, "DELETE",
     "/api/chats/u2i-1/messages/m%2F1"),
    ({"resource": "message", "operation": "unreadAll", "markRead": True}, "GET",
     "/api/messages/unread/all?mark_read=true"),
    ({"resource": "message", "operation": "sendLink", "chatId": "u2i-1", "url": "https://e.ru"}, "POST",
     "/api/messages/send/link"),
    ({"resource": "message", "operation": "sendImage", "chatId": "u2i-1", "imageSource": "imageId", "imageId": "7"},
     "POST", "/api/messages/send/image"),
    ({"resource": "chat", "operation": "get", "chatId": "u2i-1"}, "GET", "/api/chats/u2i-1"),
    ({"resource": "chat", "operation": "list"}, "GET", "/api/chats?chat_types=u2i%2Cu2u&limit=50&offset=0"),
    ({"resource": "chat", "operation": "markRead", "chatId": "u2i-1"}, "POST", "/api/chats/u2i-1/read"),
    ({"resource": "chat", "operation": "unreadCount"}, "GET", "/api/chats/unread/count"),
    ({"resource": "chat", "operation": "searchByItem", "itemId": "42"}, "GET", "/api/chats/search?item_id=42"),
    ({"resource": "bulk", "operation": "get", "jobId": "j1"}, "GET", "/api/messages/send/bulk/j1"),
    ({"resource": "bulk", "operation": "cancel", "jobId": "j1"}, "POST", "/api/messages/send/bulk/j1/cancel"),
    ({"resource": "blacklist", "operation": "add", "userId": 5}, "POST", "/api/blacklist"),
    ({"resource": "delivery", "operation": "list", "status": ""}, "GET", "/api/deliveries?limit=50&offset=0"),
    ({"resource": "delivery", "operation": "replay", "deliveryId": 3}, "POST", "/api/deliveries/3/replay"),
    ({"resource": "automation", "operation": "get", "chatId": "u2i-1"}, "GET", "/api/chats/u2i-1/automation"),
]


@pytest.mark.parametrize(("parameters", "method", "path"), CALLS,
                         ids=[f"{c[0]['resource']}-{c[0]['operation']}" for c in CALLS])
def test_every_account_bound_call_keeps_its_route_or_goes_under_the_account(dist, gateway, parameters, method, path):
    defaults = {"chatTypes": ["u2i", "u2u"]} if parameters.get("operation") == "list" else {}
    filters = {"filters": defaults} if parameters["resource"] == "chat" else {}
    results = run(dist, gateway, [{"parameters": {**parameters, **filters}},
                                  {"parameters": {**parameters, **filters, "account": SLUG}}])
    assert all(r["ok"] for r in results), results
    assert [(r["method"], r["path"]) for r in gateway.requests] == [
        (method, path), (method, f"/api/accounts/{SLUG}" + path[len("/api"):])]


def test_a_bulk_job_and_its_progress_go_to_the_first_items_account(dist, gateway):
    gateway.answers[("POST", f"/api/accounts/{SLUG}/messages/send/bulk")] = (202, {"job_id": "j9", "status": "queued"})
    gateway.answers[("GET", f"/api/accounts/{SLUG}/messages/send/bulk/j9")] = (
        200, {"job_id": "j9", "status": "completed", "total": 2, "sent": 2, "failed": 0})
    [result] = run(dist, gateway, [{
        "parameters": {"resource": "bulk", "operation": "submit", "messageKind": "text", "waitForCompletion": True,
                       "account": SLUG, "options": {"pollSeconds": 1}},
        "items": [{"chatId": "u2i-1", "text": "a", "sender": "human"}, {"chatId": "u2i-2", "text": "b"}]}])
    assert result["ok"] and result["output"][0]["status"] == "completed"
    assert sent(gateway) == [
        ("POST", f"/api/accounts/{SLUG}/messages/send/bulk",
         {"messages": [{"chat_id": "u2i-1", "text": "a", "sender": "human"}, {"chat_id": "u2i-2", "text": "b"}]}),
        ("GET", f"/api/accounts/{SLUG}/messages/send/bulk/j9", None)]


@pytest.mark.parametrize("slug", ["Moscow", "moscow shop", "../chats", "a" * 41, "шоп", "a/b"])
def test_a_malformed_slug_is_refused_before_anything_is_sent(dist, gateway, slug):
    [result, continued] = run(dist, gateway, [send_text(account=slug),
                                              {**send_text(account=slug), "continueOnFail": True}])
    assert result["ok"] is False and result["error"]["type"] == "NodeOperationError"
    assert "not a valid account slug" in result["error"]["message"]
    assert "1 to 40 lowercase letters" in result["error"]["description"]
    assert continued["ok"] and "not a valid account slug" in continued["output"][0]["error"]
    assert gateway.requests == []


def test_the_account_list_comes_from_the_gateway(dist, gateway):
    gateway.answers[("GET", "/api/accounts")] = (200, {"accounts": [
        {"slug": "default", "name": "Main shop", "state": "active"}, {"slug": "spb", "name": "", "state": "failing"}]})
    [result] = run(dist, gateway, [{"loadOptions": "getAccounts"}])
    assert [(o["name"], o["value"]) for o in result["options"]] == [
        ("(None: Routes Without an Account)", ""), ("Main shop (default)", "default"), ("spb", "spb")]
    assert sent(gateway) == [("GET", "/api/accounts", None)]


def test_a_gateway_without_accounts_gives_an_empty_list_and_says_what_to_do(dist, gateway):
    gateway.answers[("GET", "/api/accounts")] = (404, {"error": {"code": "not_found", "message": "Not found.",
                                                                 "details": None}})
    [result] = run(dist, gateway, [{"loadOptions": "getAccounts"}])
    [none] = result["options"]
    assert none["value"] == "" and "404" in none["description"]
    assert "leave Account empty" in none["description"] and "$json.account.slug" in none["description"]


def test_a_refused_account_list_is_an_error_not_an_empty_list(dist, gateway):
    gateway.answers[("GET", "/api/accounts")] = (401, {"error": {"code": "unauthorized", "message": "Bad key.",
                                                                 "details": None}})
    [result] = run(dist, gateway, [{"loadOptions": "getAccounts"}])
    assert result["ok"] is False and "401" in result["error"]["message"]


# --- sender -----------------------------------------------------------------------------------------------
def test_sender_human_is_sent_and_bot_is_left_out(dist, gateway):
    results = run(dist, gateway, [
        send_text(sender="human"),
        {"parameters": {"resource": "message", "operation": "sendLink", "chatId": "u2i-1", "url": "https://e.ru",
                        "linkText": "См.", "sender": "human"}},
        {"parameters": {"resource": "message", "operation": "sendImage", "chatId": "u2i-1", "imageSource": "url",
                        "imageUrl": "https://e.ru/p.png", "sender": "human", "account": SLUG}},
        {"parameters": {"resource": "message", "operation": "sendImage", "chatId": "u2i-1", "imageSource": "url",
                        "imageUrl": "https://e.ru/p.png", "sender": "bot"}},
    ])
    assert all(r["ok"] for r in results)
    assert sent(gateway) == [
        ("POST", "/api/messages/send", {"chat_id": "u2i-1", "text": "Привет", "sender": "human"}),
        ("POST", "/api/messages/send/link",
         {"chat_id": "u2i-1", "url": "https://e.ru", "text": "См.", "sender": "human"}),
        ("POST", f"/api/accounts/{SLUG}/messages/send/image",
         {"chat_id": "u2i-1", "image_url": "https://e.ru/p.png", "sender": "human"}),
        ("POST", "/api/messages/send/image", {"chat_id": "u2i-1", "image_url": "https://e.ru/p.png"}),
    ]


def test_sender_human_travels_in_the_multipart_form_of_a_binary_image(dist, gateway):
    image = {"resource": "message", "operation": "sendImage", "chatId": "u2i-1", "imageSource": "binary",
             "binaryPropertyName": "data"}
    run(dist, gateway, [{"parameters": {**image, "sender": "human"}}, {"parameters": image}])
    human, bot = (r["body"] for r in gateway.requests)
    assert 'name="sender"\r\n\r\nhuman\r\n' in human and 'name="chat_id"\r\n\r\nu2i-1\r\n' in human
    assert "sender" not in bot and "PNG-bytes" in bot


def test_a_refused_bot_send_surfaces_the_gateways_code(dist, gateway):
    gateway.answers[("POST", "/api/messages/send")] = (409, {"error": {
        "code": "chat_in_human_hands", "message": "A human is handling this chat.",
        "details": {"until": "2026-12-08T03:00:00+00:00", "reason": "app_reply"}}})
    [result] = run(dist, gateway, [{**send_text(), "continueOnFail": True}])
    [row] = result["output"]
    assert row["code"] == "chat_in_human_hands" and row["httpCode"] == "409"
    assert row["details"]["reason"] == "app_reply"


# --- chat automation --------------------------------------------------------------------------------------
def test_automation_is_read_and_set_with_the_contracts_body(dist, gateway):
    state = {"state": "human", "until": None, "reason": "manual"}
    gateway.answers[("GET", "/api/chats/u2i-1/automation")] = (200, state)
    base = {"resource": "automation", "chatId": "u2i-1"}
    results = run(dist, gateway, [
        {"parameters": {**base, "operation": "get"}},
        {"parameters": {**base, "operation": "set", "state": "human", "minutes": 30}},
        {"parameters": {**base, "operation": "set", "state": "human", "minutes": 0}},
        {"parameters": {**base, "operation": "set", "state": "human"}},
        {"parameters": {**base, "operation": "set", "state": "bot", "minutes": 30}},
        {"parameters": {**base, "operation": "set", "state": "human", "minutes": 43200, "account": SLUG}},
    ])
    assert results[0] == {"ok": True, "output": [state]}
    assert sent(gateway) == [
        ("GET", "/api/chats/u2i-1/automation", None),
        ("PUT", "/api/chats/u2i-1/automation", {"state": "human", "minutes": 30}),
        ("PUT", "/api/chats/u2i-1/automation", {"state": "human"}),
        ("PUT", "/api/chats/u2i-1/automation", {"state": "human"}),
        ("PUT", "/api/chats/u2i-1/automation", {"state": "bot"}),
        ("PUT", f"/api/accounts/{SLUG}/chats/u2i-1/automation", {"state": "human", "minutes": 43200}),
    ]


@pytest.mark.parametrize("minutes", [43201, -1, 1.5])
def test_automation_minutes_out_of_range_are_refused_before_sending(dist, gateway, minutes):
    [result] = run(dist, gateway, [{"parameters": {"resource": "automation", "operation": "set", "chatId": "u2i-1",
                                                   "state": "human", "minutes": minutes}}])
    assert result["ok"] is False and "0 to 43200" in result["error"]["message"]
    assert gateway.requests == []
