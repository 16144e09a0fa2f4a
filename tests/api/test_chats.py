"""Chats through HTTP: filters passed to Avito as Avito expects them, limits checked first, pages walked."""
from __future__ import annotations

import pytest
from responses import matchers

from messenger.models import Chat
from tests.api.conftest import CHAT, CLIENT, ITEM, V1, V2, chat_obj, error_of

CHATS_URL = f"{V2}/chats"

pytestmark = pytest.mark.django_db


def chat_calls(avito) -> list[dict]:
    return [call.request.params for call in avito.calls if call.request.url.split("?")[0] == CHATS_URL]


def pages(avito, total: int, *, prefix: str = "u2i-c", has_more_past_cap: bool = False) -> None:
    """Avito holding `total` chats, served 100 per page by offset."""
    for offset in range(0, min(total, 1100), 100):
        chats = [chat_obj(f"{prefix}{i}") for i in range(offset, min(offset + 100, total))]
        more = offset + 100 < total
        avito.get(CHATS_URL, json={"chats": chats, "meta": {"has_more": more}},
                  match=[matchers.query_param_matcher({"offset": str(offset)}, strict_match=False)])


def test_list_defaults_to_u2i_and_u2u_and_stores_each_chat(api, avito):
    avito.get(CHATS_URL, json={"chats": [chat_obj()], "meta": {"has_more": False}})
    response = api.get("/api/chats")
    assert response.status_code == 200
    assert response.json() == {"chats": [chat_obj()], "meta": {"has_more": False}}
    assert chat_calls(avito) == [{"chat_types": "u2i,u2u", "limit": "100", "offset": "0"}]
    row = Chat.objects.get(id=CHAT)
    assert (row.client_user_id, row.client_name, row.item_id, row.chat_type) == (CLIENT, "Guldan", ITEM, "u2i")


def test_list_passes_every_filter(api, avito):
    avito.get(CHATS_URL, json={"chats": [], "meta": {"has_more": True}})
    response = api.get("/api/chats?unread_only=true&item_ids=5,6&chat_types=a2u,u2u&limit=10&offset=990")
    assert response.status_code == 200 and response.json()["meta"] == {"has_more": True}
    assert chat_calls(avito) == [{"unread_only": "true", "item_ids": "5,6", "chat_types": "a2u,u2u",
                                  "limit": "10", "offset": "990"}]


@pytest.mark.parametrize("query, fields", [
    ("limit=0", {"limit"}), ("limit=101", {"limit"}), ("offset=1001", {"offset"}),
    ("chat_types=u2i,x2y", {"chat_types"}), ("chat_types=,", {"chat_types"}),
    ("item_ids=12,abc", {"item_ids"}), ("item_ids=-4", {"item_ids"}), ("unread_only=perhaps", {"unread_only"}),
    ("limit=0&offset=5000&chat_types=bad", {"limit", "offset", "chat_types"}),
])
def test_list_checks_avitos_limits_before_calling_avito(api, avito, query, fields):
    response = api.get(f"/api/chats?{query}")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error" and set(error["details"]) == fields
    assert chat_calls(avito) == []


def test_one_chat_is_fetched_and_stored(api, avito):
    avito.get(f"{CHATS_URL}/{CHAT}", json=chat_obj(name="Анна"))
    response = api.get(f"/api/chats/{CHAT}")
    assert response.status_code == 200 and response.json()["id"] == CHAT
    assert Chat.objects.get(id=CHAT).client_name == "Анна"


def test_unknown_chat_is_404(api, avito):
    avito.get(f"{CHATS_URL}/u2i-nope", status=404, json={"error": {"code": 404, "message": "Not found"}})
    response = api.get("/api/chats/u2i-nope")
    assert response.status_code == 404 and error_of(response)["message"] == "Not found"


def test_avito_down_while_listing_is_502_after_retries(api, avito, settings):
    avito.get(CHATS_URL, status=500, json={"error": {"code": 500, "message": "Error while processing request"}})
    response = api.get("/api/chats")
    assert response.status_code == 502 and error_of(response)["code"] == "upstream_error"
    assert len(chat_calls(avito)) == settings.MAX_RETRIES + 1


def test_mark_read_posts_and_clears_the_stored_flag(api, avito):
    Chat.objects.create(id=CHAT, is_unread=True)
    avito.post(f"{V1}/chats/{CHAT}/read", json={"ok": True})
    response = api.post(f"/api/chats/{CHAT}/read")
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert Chat.objects.get(id=CHAT).is_unread is False


def test_unread_count_walks_every_page(api, avito):
    pages(avito, 250)
    response = api.get("/api/chats/unread/count")
    assert response.status_code == 200
    assert response.json() == {"unread_count": 250, "truncated": False}
    calls = chat_calls(avito)
    assert [c["offset"] for c in calls] == ["0", "100", "200"]
    assert all(c["unread_only"] == "true" and c["chat_types"] == "u2i,u2u" for c in calls)
    assert Chat.objects.filter(is_unread=True).count() == 250


def test_unread_count_stops_at_avitos_offset_cap_and_says_so(api, avito):
    pages(avito, 1500)
    response = api.get("/api/chats/unread/count")
    assert response.json() == {"unread_count": 1100, "truncated": True}
    assert chat_calls(avito)[-1]["offset"] == "1000"


def test_search_returns_every_chat_about_the_item(api, avito):
    pages(avito, 130)
    response = api.get(f"/api/chats/search?item_id={ITEM}")
    assert response.status_code == 200
    body = response.json()
    assert len(body["chats"]) == 130 and body["truncated"] is False
    assert {c["item_ids"] for c in chat_calls(avito)} == {str(ITEM)}


@pytest.mark.parametrize("query", ["", "item_id=", "item_id=abc", "item_id=0"])
def test_search_needs_a_valid_item_id(api, avito, query):
    response = api.get(f"/api/chats/search?{query}")
    assert response.status_code == 400 and "item_id" in error_of(response)["details"]


def test_fixed_paths_are_not_taken_for_a_chat_id(api, avito):
    avito.get(f"{CHATS_URL}/search", json=chat_obj("search"))  # would be hit if /search were a chat id
    avito.get(CHATS_URL, json={"chats": [], "meta": {"has_more": False}})
    assert api.get("/api/chats/search?item_id=5").json() == {"chats": [], "truncated": False}
    assert api.get("/api/chats/unread/count").json() == {"unread_count": 0, "truncated": False}


def test_a_chat_id_without_a_known_type_prefix_is_stored_without_a_type(api, avito):
    avito.post(f"{V1}/chats/Idempotent-Replayed/read", json={"ok": True})
    assert api.post("/api/chats/Idempotent-Replayed/read").status_code == 200
    assert Chat.objects.get(id="Idempotent-Replayed").chat_type == ""


def test_avito_timing_out_while_listing_is_504_after_retries(api, avito, settings):
    import requests

    avito.get(CHATS_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    response = api.get("/api/chats")
    assert response.status_code == 504 and error_of(response)["code"] == "upstream_timeout"
    assert len(chat_calls(avito)) == settings.MAX_RETRIES + 1
