"""The normalizer on every Avito message type, with content shaped as in avito-api.md §4.4."""
from __future__ import annotations

import pytest

from messenger.normalizer import BY_TYPE, message_text, normalize_message
from tests.conftest import USER_ID
from tests.webhooks.avito_payloads import CHAT_ID, CUSTOMER_ID, ITEM_ID, avito_message

IMAGE_SIZES = {"640x480": "https://img.avito.st/640x480/1.jpg", "1280x960": "https://img.avito.st/1280x960/1.jpg",
               "140x105": "https://img.avito.st/140x105/1.jpg", "32x32": "https://img.avito.st/32x32/1.jpg"}
NO_MEDIA = {"has_voice": False, "voice_url": None, "has_images": False, "images": [], "has_video": False,
            "has_document": False}

# type, content as Avito sends it, expected text, expected media (differences from NO_MEDIA)
CASES = [
    ("text", {"text": "Здравствуйте, актуально?"}, "Здравствуйте, актуально?", {}),
    ("image", {"image": {"sizes": IMAGE_SIZES}}, "",
     {"has_images": True, "images": [{"url": "https://img.avito.st/1280x960/1.jpg"}]}),
    ("voice", {"voice": {"voice_id": "voice-1"}}, "",
     {"has_voice": True, "voice_url": "https://avito.st/voice/voice-1.mp4"}),
    ("link", {"link": {"text": "habr.com", "url": "https://habr.com/ru/articles/1/",
                       "preview": {"title": "Habr", "description": "…", "domain": "habr.com",
                                   "url": "https://habr.com/ru/articles/1/", "images": None}}},
     "https://habr.com/ru/articles/1/", {}),
    ("item", {"item": {"title": "Mazda 3 2008", "price_string": "300 000 ₽",
                       "item_url": "https://avito.ru/moskva/avtomobili/mazda_3_2008_1768287444",
                       "image_url": "https://img.avito.st/1.jpg"}},
     "Mazda 3 2008 https://avito.ru/moskva/avtomobili/mazda_3_2008_1768287444", {}),
    ("location", {"location": {"lat": 55.599799, "lon": 37.603954, "kind": "house",
                               "text": "Москва, Варшавское шоссе, 150", "title": "Варшавское шоссе, 150"}},
     "Москва, Варшавское шоссе, 150", {}),
    ("call", {"call": {"status": "missed", "target_user_id": USER_ID}}, "", {}),
    ("system", {"text": "Покупатель оформил доставку", "flow_id": "sbc_seller_notification"},
     "Покупатель оформил доставку", {}),
    ("deleted", {}, "", {}),
    ("file", {}, "", {"has_document": True}),
    ("video", {}, "", {"has_video": True}),
    ("appCall", {}, "", {}),
]


def normalize(message, **overrides):
    arguments = {"account_user_id": USER_ID, "chat_id": CHAT_ID, "chat_type": "u2i", "ad_id": ITEM_ID,
                 "client_user_id": CUSTOMER_ID, "client_name": "Guldan", **overrides}
    return normalize_message(message, **arguments)


def test_every_type_avito_documents_has_a_row():
    assert {case[0] for case in CASES} == set(BY_TYPE)


@pytest.mark.parametrize(("message_type", "content", "text", "media"), CASES, ids=[case[0] for case in CASES])
def test_each_type_in_the_contract_shape(message_type, content, text, media):
    message = avito_message(type=message_type, content=content, message_id="msg_123", created=1764610200)
    result = normalize(message, voice_url="https://avito.st/voice/voice-1.mp4")

    assert result == {
        "event": "message",
        "channel": "avito",
        "event_id": "avito-msg-msg_123",
        "external_user_id": str(CUSTOMER_ID),
        "external_chat_id": CHAT_ID,
        "text": text,
        "timestamp": "2025-12-01T17:30:00+00:00",
        "client_name": "Guldan",
        "media": {**NO_MEDIA, **media},
        "meta": {"external_message_id": "msg_123", "ad_id": ITEM_ID, "original_media_type": message_type,
                 "chat_type": "u2i", "direction": "in", "source": "webhook"},
    }


@pytest.mark.parametrize(("message_type", "content"), [
    ("text", {"text": None}), ("image", {"image": None}), ("image", {"image": {"sizes": {}}}),
    ("link", {"link": None}), ("item", {"item": None}), ("location", {"location": None}),
    ("voice", {"voice": None}), ("call", {"call": None}), ("text", None),
])
def test_null_members_avito_allows_give_empty_values(message_type, content):
    result = normalize({**avito_message(type=message_type), "content": content})
    assert result["text"] == ""
    assert result["media"]["images"] == []
    assert result["media"]["has_images"] is False


def test_unknown_type_is_kept_with_empty_text_and_its_name():
    result = normalize(avito_message(type="sticker", content={"sticker": {"id": 5}}))
    assert (result["text"], result["media"], result["meta"]["original_media_type"]) == ("", NO_MEDIA, "sticker")


def test_link_without_url_falls_back_to_its_text():
    assert message_text("link", {"link": {"text": "habr.com", "url": None}}) == "habr.com"


def test_location_without_text_falls_back_to_its_title():
    assert message_text("location", {"location": {"title": "Варшавское шоссе, 150"}}) == "Варшавское шоссе, 150"


def test_item_with_only_a_title():
    assert message_text("item", {"item": {"title": "Mazda 3 2008", "item_url": None}}) == "Mazda 3 2008"


def test_voice_url_only_on_voice_messages():
    result = normalize(avito_message(type="text"), voice_url="https://avito.st/voice/x.mp4")
    assert result["media"]["voice_url"] is None


def test_own_message_is_outgoing_and_names_the_customer_as_the_other_user():
    result = normalize(avito_message(author_id=USER_ID))
    assert result["meta"]["direction"] == "out"
    assert result["external_user_id"] == str(CUSTOMER_ID)


def test_v3_list_entry_direction_wins_over_the_author():
    message = {"id": "m1", "author_id": CUSTOMER_ID, "created": 1571654040, "direction": "out", "type": "text",
               "content": {"text": "привет!"}, "is_read": True}
    assert normalize(message)["meta"]["direction"] == "out"


def test_unknown_name_type_and_item_are_null_and_chat_type_comes_from_the_chat_id():
    result = normalize(avito_message(), chat_type=None, ad_id=None, client_name="", chat_id="u2u-abc")
    assert (result["client_name"], result["meta"]["ad_id"], result["meta"]["chat_type"]) == (None, None, "u2u")


def test_the_event_id_is_the_same_whenever_a_message_is_normalized():
    message = avito_message(message_id="same-id")
    assert normalize(message)["event_id"] == normalize(dict(message), client_name="other")["event_id"]


def test_each_message_has_its_own_event_id_made_from_its_avito_id():
    """n8n deduplicates on it (webhook-id): two messages sharing one would lose the second."""
    ids = ["m-1", "m-2", "u2i~x.9", "1" * 128]
    event_ids = [normalize(avito_message(message_id=message_id))["event_id"] for message_id in ids]
    assert event_ids == [f"avito-msg-{message_id}" for message_id in ids]
    assert len(set(event_ids)) == len(ids)
