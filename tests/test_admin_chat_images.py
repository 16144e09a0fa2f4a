"""Chat photos in the staff inbox come through the gateway: `/admin/messenger/chat/<chat>/image/<message>/`.

The URL fetched is the one stored with the message, through the one image client (address
guard, timeout, size cap); staff with the view permission on chats only; a failing host gives
a placeholder, an unknown message a 404, never a 500. The image host is mocked (`responses`)
at a public address, so no DNS lookup is needed.
"""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from messenger.models import Chat, Message
from messenger.services.chat_images import MAX_SHOWN_BYTES
from tests.api.conftest import CHAT, PNG

pytestmark = pytest.mark.django_db

HOST = "http://93.184.216.34"  # Avito's image server, as far as the test knows
SIZES = {"1280x960": f"{HOST}/1280.png", "140x105": f"{HOST}/140.png"}
IMAGE_URL = f"/admin/messenger/chat/{CHAT}/image/img-1/"


def staff(django_user_model, client, *codenames: str, is_staff: bool = True):
    user = django_user_model.objects.create_user("someone", password="pw", is_staff=is_staff)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


@pytest.fixture
def viewer(client, django_user_model):
    return staff(django_user_model, client, "view_chat")


@pytest.fixture
def chat():
    chat = Chat.objects.create(id=CHAT, chat_type="u2i", client_name="Анна")
    Message.objects.create(id="img-1", chat=chat, direction="in", type="image", content={"image": {"sizes": SIZES}},
                           created="2026-12-01T10:06:00Z")
    Message.objects.create(id="txt-1", chat=chat, direction="in", type="text", text="Фото выше",
                           created="2026-12-01T10:07:00Z")
    return chat


def host_calls(avito) -> list[str]:
    return [call.request.url for call in avito.calls if call.request.url.startswith(HOST)]


def test_the_chat_page_shows_the_photo_from_the_gateway_not_from_avito(viewer, chat):
    page = viewer.get(reverse("admin:messenger_chat_change", args=[CHAT])).content.decode()
    assert f'<img src="{IMAGE_URL}"' in page
    assert reverse("admin:messenger_chat_image", args=[CHAT, "img-1"]) == IMAGE_URL
    assert HOST not in page  # not even as a link


def test_the_largest_stored_size_is_fetched_and_sent_back_with_its_type_kept_privately(viewer, chat, avito):
    avito.get(SIZES["1280x960"], body=PNG, content_type="image/png")
    response = viewer.get(IMAGE_URL, {"url": "http://198.51.100.7/elsewhere.png"})  # a URL asked for is ignored
    assert response.status_code == 200 and response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=86400"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert host_calls(avito) == [SIZES["1280x960"]]


def test_webp_from_avitos_servers_is_shown_too(viewer, chat, avito):
    avito.get(SIZES["1280x960"], body=b"RIFF\x00\x00\x00\x00WEBPVP8 ", content_type="image/webp")
    response = viewer.get(IMAGE_URL)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"


@pytest.mark.parametrize("answer", [
    dict(status=500, body=b"oops", content_type="text/plain"),                  # the host fails
    dict(body=b"<svg onload=alert(1)>", content_type="image/svg+xml"),          # not a raster image: never passed on
    dict(body=b"<html>", content_type="text/html"),                             # not an image at all
    dict(body=PNG, content_type="image/png", headers={"Content-Length": str(MAX_SHOWN_BYTES + 1)}),  # too large
])
def test_a_host_that_does_not_give_the_image_gives_the_placeholder_never_a_500(viewer, chat, avito, answer):
    avito.get(SIZES["1280x960"], **answer)
    response = viewer.get(IMAGE_URL)
    assert response.status_code == 404
    assert response["Content-Type"] == "image/svg+xml" and b"Image unavailable" in response.content
    assert response["Cache-Control"] == "no-store"


def test_a_body_larger_than_the_cap_is_abandoned(viewer, chat, avito, monkeypatch):
    from messenger.services import chat_images

    monkeypatch.setattr(chat_images, "MAX_SHOWN_BYTES", 1000)
    avito.get(SIZES["1280x960"], body=PNG + b"\0" * 2000, content_type="image/png")
    response = viewer.get(IMAGE_URL)
    assert response.status_code == 404 and response["Content-Type"] == "image/svg+xml"


def test_a_stored_url_to_a_private_address_is_not_fetched(viewer, chat, avito, settings):
    settings.IMAGE_URL_ALLOW_PRIVATE = False
    Message.objects.filter(id="img-1").update(content={"image": {"sizes": {"1280x960": "http://127.0.0.1:6379/x"}}})
    response = viewer.get(IMAGE_URL)
    assert response.status_code == 404 and response["Content-Type"] == "image/svg+xml"
    assert len(avito.calls) == 0  # refused before any request


def test_a_timeout_gives_the_placeholder(viewer, chat, avito):
    import requests

    avito.get(SIZES["1280x960"], body=requests.exceptions.ReadTimeout("slow"))
    response = viewer.get(IMAGE_URL)
    assert response.status_code == 404 and response["Content-Type"] == "image/svg+xml"


@pytest.mark.parametrize("path", [
    f"/admin/messenger/chat/{CHAT}/image/nope/",      # no such message
    f"/admin/messenger/chat/{CHAT}/image/txt-1/",     # not an image
    "/admin/messenger/chat/u2i-other/image/img-1/",   # no such chat
])
def test_anything_but_an_image_message_of_this_chat_is_a_404(viewer, chat, avito, path):
    Chat.objects.create(id="u2i-other", chat_type="u2i")
    response = viewer.get(path)
    assert response.status_code == 404 and not response["Content-Type"].startswith("image/")
    assert host_calls(avito) == []


def test_an_image_of_another_chat_is_not_served_under_this_one(viewer, chat, avito):
    Chat.objects.create(id="u2i-other", chat_type="u2i")
    assert viewer.get("/admin/messenger/chat/u2i-other/image/img-1/").status_code == 404


@pytest.mark.parametrize("codenames, is_staff", [
    (("view_chat",), False),      # not staff
    (("view_message",), True),    # staff, but may not view chats
])
def test_only_staff_who_may_view_chats_get_the_image(client, django_user_model, chat, avito, codenames, is_staff):
    response = staff(django_user_model, client, *codenames, is_staff=is_staff).get(IMAGE_URL)
    assert response.status_code == 403
    assert host_calls(avito) == []


def test_an_anonymous_visitor_gets_403(client, chat, avito):
    assert client.get(IMAGE_URL).status_code == 403
    assert host_calls(avito) == []


def test_only_reading_methods(viewer, chat, avito):
    assert viewer.post(IMAGE_URL).status_code in (403, 405)  # CSRF or method: never a fetch
    assert host_calls(avito) == []
