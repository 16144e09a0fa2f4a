"""Bodies are capped by path before anything reads them (avitogw.body_cap), through Django's test client.

A made-up CSRF cookie makes Django's CSRF check parse a POST: without the cap, anyone could
make /admin/login/ parse a large form or spool a large file. The general cap is
REQUEST_BODY_MAX_BYTES; /api/* and a staff member's reply take one image more. The same
through real gunicorn is tests/test_body_cap_gunicorn.py.
"""
from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.http import HttpRequest

from messenger.models import Chat
from tests.api.conftest import CHAT, PNG

pytestmark = pytest.mark.django_db

OVER_GENERAL = 3 * 1024 * 1024  # past REQUEST_BODY_MAX_BYTES (2.5 MB), well within the image routes' 26 MB
REPLY_URL = f"/admin/messenger/chat/{CHAT}/reply/"


class Unreadable(io.RawIOBase):
    """A body that must not be read: the cap decides on the declared length alone."""

    def read(self, size=-1):
        raise AssertionError("the body was read")


@pytest.fixture
def forged_csrf(client):
    client.cookies["csrftoken"] = "f" * 32
    return client


def test_a_large_form_to_the_login_page_is_refused_unparsed(forged_csrf, monkeypatch):
    parsed = []
    monkeypatch.setattr(HttpRequest, "_load_post_and_files", lambda request: parsed.append(request.path))
    response = forged_csrf.post("/admin/login/", data="username=a&password=" + "x" * OVER_GENERAL,
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain") and b"2621440 bytes" in response.content
    assert parsed == []


def test_a_large_file_to_the_login_page_is_refused(forged_csrf):
    upload = io.BytesIO(b"\0" * OVER_GENERAL)
    upload.name = "big.bin"
    response = forged_csrf.post("/admin/login/", {"username": "a", "password": "b", "file": upload})
    assert response.status_code == 413


def test_a_declared_length_past_the_cap_is_refused_without_reading_a_byte(forged_csrf):
    response = forged_csrf.post("/admin/login/", data=b"", content_type="application/x-www-form-urlencoded",
                                CONTENT_LENGTH=str(60 * 1024 * 1024), **{"wsgi.input": Unreadable()})
    assert response.status_code == 413


def chunked(client, path: str, body: bytes, **extra):
    """A POST whose body comes chunked: no Content-Length, as gunicorn hands such a request on."""
    return client.generic("POST", path, b"", CONTENT_TYPE="application/x-www-form-urlencoded", CONTENT_LENGTH="",
                       HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": io.BytesIO(body)}, **extra)


def test_a_chunked_body_is_counted_as_it_is_read(forged_csrf):
    assert chunked(forged_csrf, "/admin/login/", b"a=" + b"x" * OVER_GENERAL).status_code == 413


def test_a_chunked_body_within_the_cap_is_read_as_any_other(client, django_user_model):
    django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    response = chunked(client, "/admin/login/", b"username=staff&password=pw&next=/admin/")
    assert response.status_code == 302 and response["Location"] == "/admin/"  # the form was parsed: logged in


def test_other_paths_answer_in_the_json_envelope(client):
    for path in ("/webhook/avito", "/health"):
        response = client.post(path, data="x" * OVER_GENERAL, content_type="application/json")
        assert response.status_code == 413, path
        assert response.json()["error"]["code"] == "payload_too_large"


def test_the_api_takes_more_than_the_general_cap(client):
    body = json.dumps({"chat_id": CHAT, "text": "x" * OVER_GENERAL})
    response = client.post("/api/messages/send", data=body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"  # too long a text


def large_reply(client):
    image = io.BytesIO(PNG + b"\0" * OVER_GENERAL)
    image.name = "photo.png"
    return client.post(REPLY_URL, {"text": "x" * 5000, "image": image})


def test_the_staff_reply_takes_an_image_from_staff_who_may_reply_only(client, django_user_model):
    Chat.objects.create(id=CHAT, chat_type="u2i")
    client.cookies["csrftoken"] = "f" * 32
    assert large_reply(client).status_code == 413  # not logged in: the general cap

    user = django_user_model.objects.create_user("replier", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_chat"]))
    client.force_login(user)
    assert large_reply(client).status_code == 413  # may only view

    user.user_permissions.add(Permission.objects.get(codename="reply_chat"))
    response = large_reply(client)
    assert response.status_code == 302  # parsed: the text is too long, said on the chat's page


def test_a_reply_image_past_avitos_limit_is_refused_before_it_is_read(client, django_user_model, avito, monkeypatch):
    from inbox import forms

    Chat.objects.create(id=CHAT, chat_type="u2i")
    user = django_user_model.objects.create_user("replier", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_chat", "reply_chat"]))
    client.force_login(user)
    monkeypatch.setattr(forms, "MAX_IMAGE_BYTES", 1000)
    monkeypatch.setattr(InMemoryUploadedFile, "read", property(lambda upload: Unreadable().read))
    image = io.BytesIO(PNG + b"\0" * 2000)
    image.name = "photo.png"
    response = client.post(REPLY_URL, {"image": image}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        f"Not sent: image: The image is {len(PNG) + 2000} bytes; Avito accepts at most 1000."]
    assert len(avito.calls) == 0
