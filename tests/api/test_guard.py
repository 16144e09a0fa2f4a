"""The API key and the per-caller rate limit in front of every /api/* path (also bulk and deliveries)."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from messenger.avito import reset_client
from tests.api.conftest import V2, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def keyed(settings, avito):
    settings.API_KEY = "k-3f9a1c7e"
    avito.get(f"{V2}/chats", json={"chats": [], "meta": {"has_more": False}})
    return avito


@pytest.mark.parametrize("headers", [{}, {"HTTP_X_API_KEY": "wrong"}, {"HTTP_X_API_KEY": "k-3f9a1c7"},
                                     {"HTTP_X_API_KEY": "k-3f9a1c7e "}])
def test_missing_or_wrong_key_is_401_and_avito_is_not_called(api, keyed, headers):
    response = api.get("/api/chats", **headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert not any("/messenger/" in call.request.url for call in keyed.calls)


def test_the_right_key_passes(api, keyed):
    assert api.get("/api/chats", HTTP_X_API_KEY="k-3f9a1c7e").status_code == 200


@pytest.mark.parametrize("path", ["/api/messages/send/bulk", "/api/deliveries", "/api/token", "/api/nothing-here"])
def test_every_api_path_needs_the_key(api, keyed, path):
    assert api.get(path).status_code == 401


@pytest.mark.parametrize("path", ["/health", "/info", "/openapi.json", "/docs", "/redoc", "/webhook/avito"])
def test_open_paths_need_no_key(api, keyed, path):
    response = api.get(path) if path != "/webhook/avito" else api.post(path, {}, format="json")
    assert response.status_code not in (401, 403)


def test_without_api_key_configured_no_header_is_needed(api, avito):
    avito.get(f"{V2}/chats", json={"chats": [], "meta": {"has_more": False}})
    assert api.get("/api/chats").status_code == 200


@pytest.fixture
def frozen_window(monkeypatch):
    """django-ratelimit's windows are fixed and staggered per key: with its clock frozen, a window
    cannot end between a test's calls (which made these tests fail now and then)."""
    import django_ratelimit.core

    now = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: now))


def test_past_the_rate_limit_the_caller_gets_429_with_retry_after(api, settings, avito, frozen_window):
    settings.API_RATE_LIMIT = "3/m"
    avito.get(f"{V2}/chats", json={"chats": [], "meta": {"has_more": False}})
    assert [api.get("/api/chats").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/api/chats")
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert sum(1 for call in avito.calls if "/chats" in call.request.url) == 3


def test_the_limit_is_per_caller(api, settings, avito, frozen_window):
    settings.API_RATE_LIMIT = "2/m"
    avito.get(f"{V2}/chats", json={"chats": [], "meta": {"has_more": False}})
    for _ in range(2):  # without API_KEY only loopback callers are served: two of them
        api.get("/api/chats", REMOTE_ADDR="127.0.0.1")
    assert api.get("/api/chats", REMOTE_ADDR="127.0.0.1").status_code == 429
    assert api.get("/api/chats", REMOTE_ADDR="127.0.0.2").status_code == 200


def test_the_limit_counts_per_api_key_not_per_address(api, settings, keyed, frozen_window):
    settings.API_RATE_LIMIT = "2/m"
    for address in ("10.0.0.1", "10.0.0.2"):
        assert api.get("/api/chats", REMOTE_ADDR=address, HTTP_X_API_KEY="k-3f9a1c7e").status_code == 200
    assert api.get("/api/chats", REMOTE_ADDR="10.0.0.3", HTTP_X_API_KEY="k-3f9a1c7e").status_code == 429


def test_open_paths_are_not_rate_limited(api, settings):
    settings.API_RATE_LIMIT = "1/m"
    assert {api.get("/health").status_code for _ in range(3)} == {200}


@pytest.mark.redis
def test_with_redis_the_count_is_shared_through_redis(api, settings, avito, redis_url, frozen_window):
    import redis

    settings.REDIS_URL = redis_url
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}}
    settings.API_RATE_LIMIT = "2/m"
    reset_client()
    avito.get(f"{V2}/chats", json={"chats": [], "meta": {"has_more": False}})
    assert [api.get("/api/chats").status_code for _ in range(3)] == [200, 200, 429]
    counters = redis.Redis.from_url(redis_url).keys("*rl:*")
    assert len(counters) == 1


def test_unknown_api_path_is_a_json_404_even_with_debug_on(api, settings):
    settings.DEBUG = True
    response = api.get("/api/no/such/thing")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(api, avito, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"chat_id": "u2i-a", "text": "' + "x" * 2000 + '"}'
    response = api.post("/api/messages/send", data=body, content_type="application/json")
    assert response.status_code == 413 and error_of(response)["code"] == "payload_too_large"


@pytest.mark.parametrize("headers", [
    {"HTTP_ORIGIN": "https://evil.example"},
    {"HTTP_ORIGIN": "http://testserver.evil.example"},
    {"HTTP_ORIGIN": "null"},  # a sandboxed frame
    {"HTTP_SEC_FETCH_SITE": "cross-site"},  # an <img> or a form without Origin
    {"HTTP_SEC_FETCH_SITE": "same-site"},  # another port or subdomain of the same site
])
def test_without_an_api_key_a_request_from_a_web_page_is_refused(api, avito, headers):
    avito.get(f"{V2}/chats", json={"chats": [], "meta": {"has_more": False}})
    response = api.post("/api/token/refresh", REMOTE_ADDR="127.0.0.1", **headers)
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden" and "web page" in error_of(response)["message"]
    assert api.get("/api/chats", REMOTE_ADDR="127.0.0.1", **headers).status_code == 403
    assert not avito.calls


@pytest.mark.parametrize("headers", [
    {},  # curl, n8n
    {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"},  # the gateway's own Swagger UI
    {"HTTP_SEC_FETCH_SITE": "none"},  # typed into the address bar
])
def test_without_an_api_key_programs_and_the_gateways_own_pages_still_pass(api, avito, headers):
    avito.get(f"{V2}/chats", json={"chats": [], "meta": {"has_more": False}})
    assert api.get("/api/chats", REMOTE_ADDR="127.0.0.1", **headers).status_code == 200


def test_with_an_api_key_the_key_decides_not_the_origin(api, keyed):
    headers = {"HTTP_ORIGIN": "https://n8n.example", "HTTP_SEC_FETCH_SITE": "cross-site"}
    assert api.get("/api/chats", HTTP_X_API_KEY="k-3f9a1c7e", **headers).status_code == 200


@pytest.mark.parametrize("path", ["/api/token", "/api/chats", "/metrics"])
def test_a_script_name_prefix_does_not_hide_a_guarded_path(api, keyed, path):
    # Whatever WSGI server sets SCRIPT_NAME (gunicorn from a trusted forwarder's header), Django routes on
    # path_info: the guard decides on that too (tests/front shows gunicorn itself no longer passes it on).
    response = api.get(path, SCRIPT_NAME="/x")
    assert response.wsgi_request.path == "/x" + path
    assert response.status_code == 401
