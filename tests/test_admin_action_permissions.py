"""Every admin action that changes something needs its own permission, not the right to look.

For each action a staff member who may only view the rows is not offered it, and a POST of
the action anyway (the changelist form, as a script would send it) changes nothing; a staff
member with the action's permission runs it. docs/admin.md lists the permissions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.utils import timezone

from bulk.models import BulkJob
from messenger.models import Chat
from tests.api.conftest import CHAT, V1
from webhooks.models import Delivery, DeliveryStatus, EventStatus, IncomingEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_wakeups(monkeypatch):
    """Actions queue work through the engine's wake-ups: recorded here, never published."""
    from core.work import wakeups

    calls = []
    monkeypatch.setattr(wakeups, "wake_now", lambda task, *args, **options: calls.append(task))
    return calls


def failed_delivery() -> str:
    return str(Delivery.objects.create(event_id="avito-msg-1", body=json.dumps({"text": "hi"}), attempts=3,
                                       status=DeliveryStatus.FAILED, next_attempt_at=timezone.now()).pk)


def failed_event() -> str:
    return str(IncomingEvent.objects.create(raw={}, event_type="message", message_id="m-1", attempts=3,
                                            status=EventStatus.FAILED, next_attempt_at=timezone.now()).pk)


def running_job() -> str:
    from bulk.services import bulk_job_create

    return str(bulk_job_create(items=[{"kind": "text", "chat_id": CHAT, "payload": {"text": "n"}}]).id)


def unread_chat() -> str:
    return Chat.objects.create(id=CHAT, chat_type="u2i", client_name="Анна", is_unread=True).pk


@dataclass(frozen=True)
class Action:
    changelist: str
    name: str
    view: str  # the codename that shows the rows
    permission: str  # the codename that runs the action
    make: Callable[[], str]
    changed: Callable[[str], bool]


ACTIONS = {
    "replay delivery": Action("/admin/webhooks/delivery/", "replay", "view_delivery", "replay_delivery",
                              failed_delivery, lambda pk: Delivery.objects.get(pk=pk).status == DeliveryStatus.PENDING),
    "process event again": Action("/admin/webhooks/incomingevent/", "process_again", "view_incomingevent",
                                  "reprocess_event", failed_event,
                                  lambda pk: IncomingEvent.objects.get(pk=pk).status == EventStatus.PENDING),
    "cancel bulk job": Action("/admin/bulk/bulkjob/", "cancel_jobs", "view_bulkjob", "cancel_bulkjob", running_job,
                              lambda pk: BulkJob.objects.get(pk=pk).status == "cancelled"),
    "mark chats read": Action("/admin/messenger/chat/", "mark_read", "view_chat", "reply_chat", unread_chat,
                              lambda pk: not Chat.objects.get(pk=pk).is_unread),
}


def log_in(client, django_user_model, *codenames: str):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
def test_a_view_only_staff_member_is_not_offered_the_action_and_its_post_changes_nothing(
        client, django_user_model, action, avito, no_wakeups):
    pk = action.make()
    no_wakeups.clear()
    viewer = log_in(client, django_user_model, action.view)

    listing = viewer.get(action.changelist)
    assert listing.status_code == 200 and pk in listing.content.decode()  # the rows are there to see
    assert f'value="{action.name}"' not in listing.content.decode()

    viewer.post(action.changelist, {"action": action.name, "_selected_action": [pk], "index": "0"})
    assert not action.changed(pk)
    assert not no_wakeups and len(avito.calls) == 0 and not LogEntry.objects.exists()


@pytest.mark.parametrize("action", ACTIONS.values(), ids=ACTIONS.keys())
def test_the_actions_permission_runs_it(client, django_user_model, action, avito, settings):
    avito.post(f"{V1}/chats/{CHAT}/read", json={"ok": True})
    pk = action.make()
    staff = log_in(client, django_user_model, action.view, action.permission)

    assert f'value="{action.name}"' in staff.get(action.changelist).content.decode()
    assert staff.post(action.changelist, {"action": action.name, "_selected_action": [pk]}).status_code == 302
    assert action.changed(pk)
