"""The staff inbox in the admin, through Django's test client with Avito mocked (`responses`).

A chat's page is its conversation; replies go through the API's send services once per
form; what cannot be done shows as an admin message; Avito's data stays read-only; every
action is in the admin log. The same journey in a real browser is tests/e2e/test_admin_browser.py.
"""
from __future__ import annotations

import json
import re

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from messenger.models import BlacklistEntry, Chat, IdempotencyRecord, Message
from tests.api.conftest import CHAT, CLIENT, ITEM, PNG, V1, V2, sent_obj
from webhooks.models import Delivery, DeliveryStatus, IncomingEvent

pytestmark = pytest.mark.django_db

CHANGE_URL = reverse("admin:messenger_chat_change", args=[CHAT])
REPLY_URL = f"/admin/messenger/chat/{CHAT}/reply/"  # contract §6
SEND_URL = f"{V1}/chats/{CHAT}/messages"
IMAGE_ID = "12345.12345abcdefghijklm"
SIZES = {"1280x960": "https://img.avito.st/1280.png", "140x105": "https://img.avito.st/140.png"}


def staff(django_user_model, name: str, *codenames: str):
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def chat():
    chat = Chat.objects.create(id=CHAT, chat_type="u2i", client_name="Анна", client_user_id=CLIENT, item_id=ITEM,
                               item_title="Mazda 3 2008", is_unread=True,
                               raw={"context": {"type": "item", "value": {"id": ITEM, "url": "https://avito.ru/m/1"}}})
    Message.objects.create(id="m1", chat=chat, direction="in", type="text", text="Ещё продаёте?",
                           created="2026-12-01T10:00:00Z")
    return chat


@pytest.fixture
def replier(client, django_user_model):
    client.force_login(staff(django_user_model, "replier", "view_chat", "view_message", "reply_chat",
                             "add_blacklistentry"))
    return client


@pytest.fixture
def viewer(client, django_user_model):
    client.force_login(staff(django_user_model, "viewer", "view_chat", "view_message"))
    return client


def form_key(page) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.content.decode()).group(1)


def shown(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def test_a_chat_page_is_the_conversation_oldest_first_with_deliveries(replier, chat):
    Message.objects.create(id="m2", chat=chat, direction="out", type="text", text="Да, продаю.",
                           created="2026-12-01T10:05:00Z")
    Message.objects.create(id="m3", chat=chat, direction="in", type="image", created="2026-12-01T10:06:00Z",
                           content={"image": {"sizes": SIZES}})
    Message.objects.create(id="m4", chat=chat, direction="in", type="voice", created="2026-12-01T10:07:00Z",
                           content={"voice": {"voice_id": "v-1"}})
    Message.objects.create(id="m5", chat=chat, direction="in", type="system", text="Avito: покупатель оплатил",
                           created="2026-12-01T10:08:00Z")
    event = IncomingEvent.objects.create(message_id="m1", chat_id=CHAT, raw={}, next_attempt_at="2026-12-01T10:00Z")
    Delivery.objects.create(incoming_event=event, event_id="e1", body="{}", status=DeliveryStatus.FAILED,
                            attempts=12, next_attempt_at="2026-12-01T10:00Z")

    page = replier.get(CHANGE_URL).content.decode()
    assert [re.search(f'data-message-id="{m}" data-direction="(\\w+)"', page).group(1)
            for m in ("m1", "m2", "m3", "m4", "m5")] == ["in", "out", "in", "in", "system"]
    assert page.index("Ещё продаёте?") < page.index("Да, продаю.")
    assert f'<img src="/admin/messenger/chat/{CHAT}/image/m3/"' in page and "img.avito.st" not in page
    assert reverse("admin:messenger_chat_voice", args=[CHAT, "v-1"]) in page
    assert 'class="delivery-failed">failed</a> (12 attempts)' in page
    assert "Анна" in page and 'href="https://avito.ru/m/1"' in page and 'id="read-state">Unread' in page
    assert 'id="reply-form"' in page and "<textarea" in page


def test_reply_is_sent_through_the_send_service_and_shown_in_the_thread(replier, chat, avito):
    avito.post(SEND_URL, json=sent_obj("sent-42", "Да, актуально"))
    page = replier.get(CHANGE_URL)

    response = replier.post(REPLY_URL, {"text": "Да, актуально", "idempotency_key": form_key(page)}, follow=True)

    assert response.status_code == 200
    assert shown(response) == ["Sent to Avito: message sent-42."]
    [send] = [call for call in avito.calls if call.request.url == SEND_URL]
    assert json.loads(send.request.body) == {"message": {"text": "Да, актуально"}, "type": "text"}
    assert 'data-message-id="sent-42" data-direction="out"' in response.content.decode()
    entry = LogEntry.objects.get(object_id=CHAT, action_flag=CHANGE)
    assert entry.change_message == "Replied to the client (Avito message sent-42)."


def test_a_resubmitted_form_sends_once(replier, chat, avito):
    avito.post(SEND_URL, json=sent_obj("sent-1", "Добрый день"))
    key = form_key(replier.get(CHANGE_URL))

    first = replier.post(REPLY_URL, {"text": "Добрый день", "idempotency_key": key}, follow=True)
    again = replier.post(REPLY_URL, {"text": "Добрый день", "idempotency_key": key}, follow=True)

    assert len([call for call in avito.calls if call.request.url == SEND_URL]) == 1
    assert shown(first) == ["Sent to Avito: message sent-1."]
    assert shown(again) == ["This form was already sent (Avito message sent-1); not sent again."]
    assert form_key(again) != key  # the page after a reply carries a new key for the next one


def test_a_fresh_form_sends_a_new_message(replier, chat, avito):
    avito.post(SEND_URL, json=sent_obj("sent-1", "Ок"))
    for _ in range(2):
        replier.post(REPLY_URL, {"text": "Ок", "idempotency_key": form_key(replier.get(CHANGE_URL))})
    assert len([call for call in avito.calls if call.request.url == SEND_URL]) == 2


def test_an_image_reply_goes_through_upload_then_send_image(replier, chat, avito):
    avito.post(f"{V1}/uploadImages", json={IMAGE_ID: SIZES})
    avito.post(f"{SEND_URL}/image", json={"id": "img-1", "author_id": 1234567, "created": 1563202313,
                                          "direction": "out", "type": "image", "content": {"image": {"sizes": SIZES}}})
    avito.post(SEND_URL, json=sent_obj("sent-2", "Вот фото"))

    response = replier.post(REPLY_URL, {"text": "Вот фото", "image": SimpleUploadedFile("car.png", PNG, "image/png"),
                                        "idempotency_key": "k" * 32}, follow=True)

    assert shown(response) == ["Sent to Avito: message img-1, sent-2."]
    urls = [call.request.url for call in avito.calls if "/token" not in call.request.url]
    assert urls == [f"{V1}/uploadImages", f"{SEND_URL}/image", SEND_URL]
    assert Message.objects.get(id="img-1").type == "image"


@pytest.mark.parametrize("answer, expected", [
    ({"status": 400, "json": {"error": {"code": 400, "message": "chat is blocked"}}}, "Not sent: chat is blocked"),
    ({"status": 429, "json": {"error": {"code": 429, "message": "Too many requests"}}}, "Not sent: "),
])
def test_avito_refusing_shows_an_admin_message_not_an_error_page(replier, chat, avito, answer, expected):
    avito.post(SEND_URL, **answer)
    response = replier.post(REPLY_URL, {"text": "Здравствуйте", "idempotency_key": "a" * 32}, follow=True)
    assert response.status_code == 200
    [message] = shown(response)
    assert message.startswith(expected)
    assert not IdempotencyRecord.objects.exists()  # a failed send can be tried again with the same form


def test_a_timed_out_send_shows_an_admin_message(replier, chat, avito, settings):
    import requests

    avito.post(SEND_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    avito.get(re.compile(rf"{re.escape(V2.replace('/v2/', '/v3/'))}/chats/{CHAT}/messages/?.*"),
              json={"messages": [], "meta": {"has_more": False}})
    response = replier.post(REPLY_URL, {"text": "Здравствуйте", "idempotency_key": "b" * 32}, follow=True)
    assert response.status_code == 200
    [message] = shown(response)
    assert message.startswith("Not sent: ")


@pytest.mark.parametrize("data, expected", [
    ({"text": "x" * 1001}, "Not sent: text: Ensure this value has at most 1000 characters (it has 1001)."),
    ({"text": "   "}, "Not sent: Invalid input: text. text: Write a reply or attach an image."),
    ({"image": SimpleUploadedFile("a.txt", b"not an image", "text/plain")},
     "Not sent: Invalid input: file. file: Not a JPEG, PNG, GIF, BMP or HEIC image."),
])
def test_invalid_replies_show_why_and_reach_no_avito(replier, chat, avito, data, expected):
    response = replier.post(REPLY_URL, data, follow=True)
    assert shown(response) == [expected]
    assert [call for call in avito.calls if "/token" not in call.request.url] == []


def test_a_view_only_staff_member_sees_no_form_and_gets_403(viewer, chat, avito):
    page = viewer.get(CHANGE_URL)
    assert page.status_code == 200 and "Ещё продаёте?" in page.content.decode()
    assert 'id="reply-form"' not in page.content.decode() and 'id="mark-read"' not in page.content.decode()

    for url in (REPLY_URL, f"/admin/messenger/chat/{CHAT}/mark-read/", f"/admin/messenger/chat/{CHAT}/block/"):
        assert viewer.post(url, {"text": "hi", "reason_id": 1}).status_code == 403, url
    assert avito.calls == [] or all("/token" in call.request.url for call in avito.calls)


def test_the_reply_url_checks_csrf(django_user_model, chat, avito):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(staff(django_user_model, "csrf", "view_chat", "reply_chat"))
    assert client.post(REPLY_URL, {"text": "hi"}).status_code == 403
    assert not [call for call in avito.calls if call.request.url == SEND_URL]


def test_mark_read_goes_to_avito_and_into_the_admin_log(replier, chat, avito):
    avito.post(f"{V1}/chats/{CHAT}/read", json={"ok": True})
    response = replier.post(f"/admin/messenger/chat/{CHAT}/mark-read/", follow=True)
    assert shown(response) == ["Marked read at Avito."]
    assert Chat.objects.get(id=CHAT).is_unread is False
    assert Message.objects.get(id="m1").is_read is True  # the thread no longer flags it unread
    assert LogEntry.objects.get(object_id=CHAT).change_message == "Marked read at Avito."


def test_mark_read_as_a_list_action(replier, chat, avito):
    avito.post(f"{V1}/chats/{CHAT}/read", json={"ok": True})
    response = replier.post(reverse("admin:messenger_chat_changelist"),
                            {"action": "mark_read", "_selected_action": [CHAT]}, follow=True)
    assert shown(response) == ["Marked 1 chat(s) read at Avito."]
    assert Chat.objects.get(id=CHAT).is_unread is False
    assert LogEntry.objects.filter(object_id=CHAT).count() == 1


def test_block_the_client_with_a_reason(replier, chat, avito):
    avito.post(f"{V2}/blacklist", json={})
    response = replier.post(f"/admin/messenger/chat/{CHAT}/block/", {"reason_id": "1"}, follow=True)

    assert shown(response) == [f"Blocked user {CLIENT} at Avito (reason: spam)."]
    [call] = [call for call in avito.calls if call.request.url == f"{V2}/blacklist"]
    assert json.loads(call.request.body) == {"users": [{"user_id": CLIENT, "context": {"item_id": ITEM,
                                                                                         "reason_id": 1}}]}
    assert BlacklistEntry.objects.filter(user_id=CLIENT, reason_id=1).exists()
    assert LogEntry.objects.get(object_id=CHAT).change_message.startswith("Blocked user")


def test_block_refuses_a_reason_outside_one_to_four(replier, chat, avito):
    response = replier.post(f"/admin/messenger/chat/{CHAT}/block/", {"reason_id": "5"}, follow=True)
    assert shown(response) == ["Not blocked: choose a reason (1 to 4)."]
    assert not BlacklistEntry.objects.exists()


def test_unread_chats_are_one_filter_away(replier, chat):
    Chat.objects.create(id="u2i-read", chat_type="u2i", client_name="Борис", is_unread=False)
    Message.objects.create(id="m-photo", chat=chat, direction="in", type="image", created="2026-12-01T11:00:00Z")
    page = replier.get(reverse("admin:messenger_chat_changelist"), {"state": "unread"}).content.decode()
    assert "Анна" in page and "Борис" not in page
    assert '<td class="field-last_message">(image)</td>' in page  # a photo has no text: its kind is shown


@pytest.mark.parametrize("model", [Chat, Message, IncomingEvent, BlacklistEntry])
def test_avitos_data_cannot_be_added_or_changed_even_by_a_superuser(client, django_user_model, chat, model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert client.get(reverse(f"{name}_add")).status_code == 403
    if model is Chat:
        before = Chat.objects.get(id=CHAT).client_name
        client.post(CHANGE_URL, {"client_name": "Поддельное имя"})
        assert Chat.objects.get(id=CHAT).client_name == before
        assert 'name="client_name"' not in client.get(CHANGE_URL).content.decode()


def test_only_a_superuser_deletes_the_local_copy(client, django_user_model, chat):
    client.force_login(staff(django_user_model, "editor", "view_chat", "delete_chat", "reply_chat"))
    assert client.get(reverse("admin:messenger_chat_delete", args=[CHAT])).status_code == 403
    assert client.post(reverse("admin:messenger_chat_delete", args=[CHAT]), {"post": "yes"}).status_code == 403
    assert Chat.objects.filter(id=CHAT).exists()


def test_the_message_list_shows_shortened_text_direction_and_delivery(replier, chat):
    long_text = "Здравствуйте, " + "очень " * 30 + "длинный вопрос"
    Message.objects.create(id="m9", chat=chat, direction="in", type="text", text=long_text)
    event = IncomingEvent.objects.create(message_id="m9", chat_id=CHAT, raw={}, next_attempt_at="2026-12-01T10:00Z")
    Delivery.objects.create(incoming_event=event, event_id="e9", body="{}", status=DeliveryStatus.DELIVERED,
                            next_attempt_at="2026-12-01T10:00Z")
    page = replier.get(reverse("admin:messenger_message_changelist")).content.decode()
    assert "Здравствуйте, очень очень" in page and "очень…" in page and long_text not in page
    assert "delivered" in page and "incoming" in page


def test_the_front_page_names_the_product_and_shows_the_status_board(client, django_user_model, chat):
    client.force_login(staff(django_user_model, "operator", "view_chat", "view_delivery"))
    page = client.get(reverse("admin:index")).content.decode()
    assert "Django administration" not in page and "<title>Staff inbox and gateway status | avitogw</title>" in page
    assert 'href="/admin/messenger/chat/?state=unread"' in page
    assert 'href="/admin/webhooks/delivery/?status__exact=failed"' in page
    assert "Avito calls in the current window" in page and "0 / 1000" in page


def test_a_second_click_while_the_first_is_sending_does_not_send(replier, chat, avito, django_user_model):
    from messenger.services.staff_replies import reply_scope

    user = django_user_model.objects.get(username="replier")
    IdempotencyRecord.objects.create(key="c" * 32 + ":text", scope=reply_scope(chat_id=CHAT, staff_user_id=user.pk),
                                     body_hash="-")  # the first click's send, still in flight
    avito.post(SEND_URL, json=sent_obj("sent-x", "Да"))
    response = replier.post(REPLY_URL, {"text": "Да", "idempotency_key": "c" * 32}, follow=True)
    assert response.status_code == 200
    assert shown(response) == ["This form is already being sent; reload the page in a moment to see the reply "
                               "in the thread."]
    assert not [call for call in avito.calls if call.request.url == SEND_URL]


def test_another_staff_members_key_replays_nothing(replier, chat, avito, client, django_user_model):
    avito.post(SEND_URL, json=sent_obj("sent-1", "Да"))
    replier.post(REPLY_URL, {"text": "Да", "idempotency_key": "d" * 32})
    client.force_login(staff(django_user_model, "other", "view_chat", "reply_chat"))
    client.post(REPLY_URL, {"text": "Да", "idempotency_key": "d" * 32})
    assert len([call for call in avito.calls if call.request.url == SEND_URL]) == 2


def test_a_voice_message_link_fetches_its_file_from_avito(replier, chat, avito):
    avito.get(f"{V1}/getVoiceFiles", json={"voices_urls": {"v-1": "https://avito.ru/voice/v-1.mp4"}})
    response = replier.get(reverse("admin:messenger_chat_voice", args=[CHAT, "v-1"]))
    assert response.status_code == 302 and response["Location"] == "https://avito.ru/voice/v-1.mp4"


def test_a_status_figure_that_cannot_be_read_does_not_break_the_front_page(replier, monkeypatch):
    from avitogw import status_board

    def broken():
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(status_board, "FIGURES", (("messenger.view_chat", status_board.unread_chats),
                                                  ("messenger.view_chat", broken)))
    page = replier.get(reverse("admin:index"))
    assert page.status_code == 200
    assert [(f.label, f.value) for f in page.context["status_board"]] == [("Unread chats", "0"),
                                                                          ("Broken", "unavailable")]


@pytest.mark.parametrize("text, expected", [
    ("Короткий вопрос", "Короткий вопрос"),
    ("Добрый день!\n\nМожно   посмотреть сегодня?", "Добрый день! Можно посмотреть сегодня?"),
    ("Здравствуйте, велосипед ещё продаётся? Можно приехать посмотреть сегодня вечером после работы?",
     "Здравствуйте, велосипед ещё продаётся? Можно приехать посмотреть сегодня…"),
    ("https://www.avito.ru/moskva/velosipedy/stels_navigator_500_1768287444?utm=chat&from=messenger",
     "https://www.avito.ru/moskva/velosipedy/stels_navigator_500_1768287444?utm=chat&…"),
])
def test_list_text_is_cut_at_a_word_with_an_ellipsis(text, expected):
    from inbox.shorten import shorten

    assert shorten(text, 80) == expected
    assert len(shorten(text, 80)) <= 80
