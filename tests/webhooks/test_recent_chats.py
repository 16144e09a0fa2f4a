"""The worker's short memory of chats: read once a minute, not once a message."""
from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messenger.models import Chat, Message
from tests.webhooks.avito_payloads import avito_chat, chat_url, notification
from webhooks.intake import event_receive
from webhooks.models import IncomingEvent
from webhooks.recent_chats import RecentChats
from webhooks.services import event_process


def chat(chat_id="u2i-1", name="Guldan") -> Chat:
    return Chat(id=chat_id, client_name=name)


def test_a_chat_is_remembered_for_its_time_then_read_again():
    now = [0.0]
    memory = RecentChats(seconds=60, clock=lambda: now[0])
    memory.remember(chat())
    now[0] = 59.9
    assert memory.get("u2i-1").client_name == "Guldan"
    now[0] = 60.1
    assert memory.get("u2i-1") is None
    assert memory.get("u2i-other") is None


def test_the_memory_is_bounded():
    memory = RecentChats(size=3)
    for index in range(3):
        memory.remember(chat(f"u2i-{index}"))
    memory.remember(chat("u2i-3"))
    assert memory.get("u2i-3") is not None
    assert memory.get("u2i-0") is None


@pytest.mark.django_db
def test_the_worker_reads_a_known_chat_once_for_a_burst_of_its_messages(avito, n8n_settings):
    n8n_settings.N8N_WEBHOOK_URL = ""
    avito.get(chat_url(), json=avito_chat(name="Guldan"))
    for index in range(2):
        event_receive(body=json.dumps(notification(message_id=f"burst-{index}")).encode())
    first, second = IncomingEvent.objects.order_by("pk")
    event_process(event_pk=first.pk)  # fetches the chat from Avito, stores and remembers it
    with CaptureQueriesContext(connection) as queries:
        event_process(event_pk=second.pk)
    assert Message.objects.filter(id="burst-1").exists()
    assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT') and '"messenger_chat"' in q["sql"]]
