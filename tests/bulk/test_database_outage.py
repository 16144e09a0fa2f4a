"""A bulk item whose send reached Avito while our database went down (issue 20): recorded as sent once the
database is back, never sent again.

The worker cannot record the outcome (its UPDATE fails with the database), so the item stays
`sending` under the worker's lease; the message itself is kept on disk and stored by the
sweep's replay. When the lease runs out the sweep hands the item to the resolver, which finds
the message in the chat: `sent`, with Avito's id, and Avito has it once.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from core.pending_writes import pending_writes_waiting
from core.work.leases import LEASE
from core.work.sweep import work_sweep
from bulk import tasks
from bulk.models import BulkItem
from bulk.sending import bulk_item_send
from bulk.services import bulk_job_create
from messenger.models import Message
from tests.database_outage import database_outage

CHAT = "u2i-y9ykWR1EkNOJJMaE9i9m8w"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def kept_writes(settings, tmp_path, monkeypatch):
    settings.PENDING_WRITES_DIR = tmp_path / "pending-writes"
    monkeypatch.setattr("core.pending_writes.REPLAYER.start", lambda: None)  # the sweep replays here


def test_an_item_sent_while_the_database_went_down_is_recorded_sent_once_it_is_back_not_sent_again(
        chats, queued, monkeypatch):
    job = bulk_job_create(items=[{"kind": "text", "chat_id": CHAT, "payload": {"text": "Скидка 10%"}}])
    [item] = job.items.all()
    store = chats._store
    with database_outage() as outage:
        def avito_stores_then_our_database_fails(*args):
            answer = store(*args)
            outage.down()
            return answer

        monkeypatch.setattr(chats, "_store", avito_stores_then_our_database_fails)
        with pytest.raises(OperationalError):  # the worker cannot record it (its task runs again, finds it taken)
            bulk_item_send(item_id=item.id)
        assert len(pending_writes_waiting()) == 1  # Avito's message, kept
        outage.up()
    assert BulkItem.objects.get(id=item.id).status == "sending"
    assert bulk_item_send(item_id=item.id) is None  # the task's second run: not pending, not sent again

    queued.clear()
    done = work_sweep(clock=lambda: timezone.now() + LEASE + timedelta(seconds=1))
    assert done["bulk sends taken back"] == 1 and done["kept writes done"] == 1
    while queued:
        name, args, _ = queued.pop(0)
        getattr(tasks, name.rsplit(".", 1)[1]).apply(args)

    item.refresh_from_db()
    [sent] = chats.sent(CHAT)
    assert item.status == "sent" and item.message_id == sent["id"]
    assert Message.objects.filter(id=sent["id"], direction="out").exists()
    job.refresh_from_db()
    assert job.status == "completed"
