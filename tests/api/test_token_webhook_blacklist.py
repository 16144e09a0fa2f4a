"""Token, webhook subscriptions and blacklist through HTTP."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from messenger.models import BlacklistEntry
from tests.api.conftest import AVITO, CLIENT, ITEM, V2, error_of

pytestmark = pytest.mark.django_db


def token_calls(avito) -> int:
    return sum(1 for call in avito.calls if call.request.url == f"{AVITO}/token")


def test_token_is_fetched_once_then_served_from_the_store(api, avito):
    first = api.get("/api/token")
    second = api.get("/api/token")
    assert first.status_code == second.status_code == 200
    body = first.json()
    assert body["access_token"] == "tok-1" and body["token_type"] == "Bearer"
    assert 86000 < body["expires_in"] <= 86400 and body["expires_at"].endswith("+00:00")
    assert token_calls(avito) == 1
    sent = parse_qs(avito.calls[0].request.body)
    assert sent == {"grant_type": ["client_credentials"], "client_id": ["test-client"],
                    "client_secret": ["test-secret"]}


def test_token_refresh_gets_a_new_token(api, avito):
    api.get("/api/token")
    avito.replace("POST", f"{AVITO}/token", json={"access_token": "tok-2", "expires_in": 86400})
    response = api.post("/api/token/refresh")
    assert response.status_code == 200 and response.json()["access_token"] == "tok-2"
    assert api.get("/api/token").json()["access_token"] == "tok-2"


def test_bad_credentials_are_a_502_not_a_caller_error(api, avito):
    avito.replace("POST", f"{AVITO}/token", status=400, json={"error": "invalid_client",
                                                              "error_description": "client not found"})
    response = api.get("/api/token")
    assert response.status_code == 502
    assert "client not found" in error_of(response)["message"]


def test_subscribe_defaults_to_the_public_url_with_the_secret(api, avito, settings):
    settings.PUBLIC_BASE_URL = "https://gw.example.com"
    settings.AVITO_WEBHOOK_SECRET = "s3cret"
    avito.post(f"{AVITO}/messenger/v3/webhook", json={"ok": True})
    response = api.post("/api/webhook/subscribe", {}, format="json")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "url": "https://gw.example.com/webhook/avito/s3cret"}
    assert json.loads(avito.calls[-1].request.body) == {"url": "https://gw.example.com/webhook/avito/s3cret"}


def test_subscribe_without_a_secret_uses_the_bare_path(api, avito, settings):
    settings.PUBLIC_BASE_URL = "https://gw.example.com"
    avito.post(f"{AVITO}/messenger/v3/webhook", json={"ok": True})
    assert api.post("/api/webhook/subscribe").json()["url"] == "https://gw.example.com/webhook/avito"


def test_subscribe_with_neither_url_nor_public_base_url_is_a_clear_400(api, avito, settings):
    settings.PUBLIC_BASE_URL = ""
    response = api.post("/api/webhook/subscribe", {}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert "PUBLIC_BASE_URL" in error["details"]["url"][0]


def test_unsubscribe_an_explicit_url(api, avito):
    avito.post(f"{AVITO}/messenger/v1/webhook/unsubscribe", json={"ok": True})
    response = api.post("/api/webhook/unsubscribe", {"url": "https://old.example.com/hook"}, format="json")
    assert response.json() == {"ok": True, "url": "https://old.example.com/hook"}
    assert json.loads(avito.calls[-1].request.body) == {"url": "https://old.example.com/hook"}


@pytest.mark.parametrize("body", [{"url": "not a url"}, {"url": "ftp://x.example.com"}, {"url": 5}, {"uri": "x"}])
def test_subscribe_rejects_bad_urls(api, avito, body):
    response = api.post("/api/webhook/subscribe", body, format="json")
    assert response.status_code == 400 and error_of(response)["code"] == "validation_error"


def test_subscriptions_are_listed(api, avito):
    avito.post(f"{AVITO}/messenger/v1/subscriptions",
               json={"subscriptions": [{"url": "https://gw.example.com/webhook/avito", "version": "3"}]})
    response = api.get("/api/webhook/subscriptions")
    assert response.json() == {"subscriptions": [{"url": "https://gw.example.com/webhook/avito", "version": "3"}]}


def test_blacklist_sends_avitos_shape_and_stores_the_entry(api, avito):
    avito.post(f"{V2}/blacklist", body="")
    response = api.post("/api/blacklist", {"user_id": CLIENT, "item_id": ITEM, "reason_id": 2}, format="json")
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert json.loads(avito.calls[-1].request.body) == {
        "users": [{"user_id": CLIENT, "context": {"item_id": ITEM, "reason_id": 2}}]}
    entry = BlacklistEntry.objects.get()
    assert (entry.user_id, entry.item_id, entry.reason_id) == (CLIENT, ITEM, 2)


def test_blacklist_without_context_sends_only_the_user(api, avito):
    avito.post(f"{V2}/blacklist", json={})
    api.post("/api/blacklist", {"user_id": CLIENT}, format="json")
    api.post("/api/blacklist", {"user_id": CLIENT, "reason_id": 4}, format="json")
    assert json.loads(avito.calls[1].request.body) == {"users": [{"user_id": CLIENT}]}
    assert BlacklistEntry.objects.get().reason_id == 4  # upserted, not duplicated


@pytest.mark.parametrize("body, field", [
    ({"user_id": CLIENT, "reason_id": 5}, "reason_id"), ({"user_id": CLIENT, "reason_id": 0}, "reason_id"),
    ({"user_id": "abc"}, "user_id"), ({}, "user_id"), ({"user_id": CLIENT, "item_id": -1}, "item_id"),
    ({"user_id": CLIENT, "reason": 1}, "reason"),
])
def test_blacklist_checks_each_field(api, avito, body, field):
    response = api.post("/api/blacklist", body, format="json")
    assert response.status_code == 400 and field in error_of(response)["details"]
    assert BlacklistEntry.objects.count() == 0
