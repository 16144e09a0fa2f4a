"""Secure by default: without API_KEY the API answers only this machine; with it, only the key.

Also what an operator reads: `/info` names the rule in force, and every curl to the gateway
in the README and docs/ sends the key (the README's subscribe command is replayed here with a
key set, and must pass).
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import AVITO

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
KEY = "k-9d2e71c4b0"
REMOTE = "203.0.113.7"


def _client(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


@pytest.fixture
def chats(avito):
    avito.get(f"{AVITO}/messenger/v2/accounts/1234567/chats", json={"chats": [], "meta": {"has_more": False}})
    return avito


@pytest.mark.parametrize("address", [REMOTE, "10.0.0.5", "192.168.1.20", "2001:db8::1", "::ffff:10.0.0.5", ""])
@pytest.mark.parametrize("path", ["/api/chats", "/api/deliveries", "/metrics"])
def test_without_a_key_strangers_get_403_saying_to_set_api_key(chats, address, path):
    response = _client(address).get(path)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert "API_KEY" in error["message"]
    assert not any("/messenger/" in call.request.url for call in chats.calls)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_without_a_key_loopback_callers_are_served(chats, address):
    assert _client(address).get("/api/chats").status_code == 200


def test_x_forwarded_for_does_not_make_a_stranger_local(chats):
    response = _client(REMOTE).get("/api/chats", HTTP_X_FORWARDED_FOR="127.0.0.1", HTTP_X_REAL_IP="127.0.0.1")
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/health", "/info", "/docs", "/openapi.json"])
def test_open_paths_stay_open_to_strangers(path):
    assert _client(REMOTE).get(path).status_code == 200


@pytest.mark.parametrize("headers", [{"HTTP_X_API_KEY": KEY}, {"HTTP_AUTHORIZATION": f"Bearer {KEY}"}])
def test_with_a_key_anyone_holding_it_is_served(chats, settings, headers):
    settings.API_KEY = KEY
    assert _client(REMOTE).get("/api/chats", **headers).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": f"Bearer {KEY}x"}, {"HTTP_AUTHORIZATION": f"Basic {KEY}"}])
def test_with_a_key_set_even_loopback_needs_it(chats, settings, headers):
    settings.API_KEY = KEY
    response = _client("127.0.0.1").get("/api/chats", **headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_info_names_the_rule_in_force(settings):
    assert _client(REMOTE).get("/info").json()["api_access"] == "loopback_only"
    settings.API_KEY = KEY
    info = _client(REMOTE).get("/info")
    assert info.json()["api_access"] == "api_key"
    assert KEY not in info.content.decode()


def _gateway_curls(text: str) -> list[str]:
    """Each curl command (continuation lines joined) that calls the gateway (its port, its API or /metrics),
    not the Avito sandbox (port 8766, `$S` in docs/sandbox.md), which knows no API key."""
    joined = text.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if re.search(r"\bcurl\b", line)
            and re.search(r":8765|/api/|/metrics", line) and not re.search(r":8766|\$S\b", line)]


DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_curl_to_the_gateway_sends_the_key(document):
    for command in _gateway_curls(document.read_text()):
        if "/api/" in command or "/metrics" in command:
            assert 'X-API-Key: $API_KEY' in command, command


def test_the_readme_has_gateway_curls_at_all():
    assert len(_gateway_curls((ROOT / "README.md").read_text())) >= 2


def _replay(command: str, client: Client):
    """Run a documented curl through the test client, with $API_KEY as the shell would expand it."""
    words = shlex.split(command.split("#")[0].replace("$API_KEY", KEY))
    method, headers, body, url = "GET", {}, "", ""
    words_iter = iter(words[1:])
    for word in words_iter:
        if word == "-X":
            method = next(words_iter)
        elif word == "-H":
            name, _, value = next(words_iter).partition(":")
            headers["HTTP_" + name.strip().upper().replace("-", "_")] = value.strip()
        elif word in ("-d", "--data"):
            body, method = next(words_iter), "POST" if method == "GET" else method
        elif not word.startswith("-"):
            url = word
    path = "/" + url.split("/", 1)[1]
    content_type = headers.pop("HTTP_CONTENT_TYPE", "application/json")
    return client.generic(method, path, body, content_type=content_type, **headers)


def test_the_readme_subscribe_command_works_with_a_key_set(avito, settings):
    settings.API_KEY = KEY
    settings.PUBLIC_BASE_URL = "https://gw.example.com"
    avito.post(f"{AVITO}/messenger/v3/webhook", json={"ok": True})
    [subscribe] = [c for c in _gateway_curls((ROOT / "README.md").read_text()) if "/api/webhook/subscribe" in c]
    response = _replay(subscribe, _client(REMOTE))
    assert response.status_code == 200, response.content
    assert response.json() == {"ok": True, "url": "https://gw.example.com/webhook/avito"}
