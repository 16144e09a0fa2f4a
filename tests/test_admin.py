"""Every admin page staff use renders: each registered model's list, search and an object's page."""
from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from messenger.models import Chat, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw")
    client.force_login(user)
    return client


def test_every_model_list_renders_with_a_search(staff_client):
    chat = Chat.objects.create(id="u2i-abc", chat_type="u2i", client_name="Анна", is_unread=True)
    Message.objects.create(id="m1", chat=chat, direction="in", type="text", text="Здравствуйте")
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert staff_client.get(url).status_code == 200, url
        assert staff_client.get(url, {"q": "Анна"}).status_code == 200, url


def test_a_chat_page_shows_its_messages(staff_client):
    chat = Chat.objects.create(id="u2i-abc", chat_type="u2i", client_name="Анна")
    Message.objects.create(id="m1", chat=chat, direction="in", type="text", text="Ещё продаёте?")
    page = staff_client.get(reverse("admin:messenger_chat_change", args=[chat.pk]))
    assert page.status_code == 200
    assert "Ещё продаёте?" in page.content.decode()
