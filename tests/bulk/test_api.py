"""The bulk API through HTTP: validation before anything is stored, progress, cancel, callback, idempotency."""
from __future__ import annotations

import json
import uuid

import pytest
from standardwebhooks.webhooks import Webhook

from bulk.models import BulkItem, BulkJob
from tests.api.conftest import error_of

URL = "/api/messages/send/bulk"
CHAT_A, CHAT_B = "u2i-y9ykWR1EkNOJJMaE9i9m8w", "u2u-u19PNvVypwmAXTQXzmjArw"
CALLBACK = "https://n8n.example.com/webhook/bulk-done"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def start(api, messages, **extra):
    return api.post(URL, {"messages": messages, **extra}, format="json")


@pytest.mark.django_db(transaction=True)
def test_a_mixed_job_is_accepted_then_every_item_is_sent_once(api, chats, eager):
    response = start(api, [
        {"chat_id": CHAT_A, "text": "Скидка 10%"},
        {"chat_id": CHAT_B, "url": "https://example.com/sale", "text": "Подробнее:"},
        {"chat_id": CHAT_A, "image_id": "123.abc"},
    ])
    assert response.status_code == 202
    accepted = response.json()
    assert set(accepted) == {"job_id", "status", "total", "status_url"}
    assert (accepted["status"], accepted["total"]) == ("queued", 3)
    assert accepted["status_url"] == f"http://testserver{URL}/{accepted['job_id']}"

    progress = api.get(f"{URL}/{accepted['job_id']}").json()
    assert (progress["status"], progress["sent"], progress["failed"], progress["pending"]) == ("completed", 3, 0, 0)
    assert chats.texts() == [(CHAT_A, "<image>"), (CHAT_A, "Скидка 10%"), (CHAT_B, "Подробнее:\nhttps://example.com/sale")]
    sent_ids = {m["id"] for m in chats.sent()}
    assert [(i["index"], i["status"], i["error"]) for i in progress["items"]] == [(0, "sent", None), (1, "sent", None),
                                                                                 (2, "sent", None)]
    assert {i["message_id"] for i in progress["items"]} == sent_ids
    assert progress["finished_at"] is not None


@pytest.mark.django_db
def test_items_are_stored_with_their_kind_and_woken_only_after_commit(api, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = start(api, [{"chat_id": CHAT_A, "text": "one"}, {"chat_id": CHAT_B, "url": "https://e.com/x"}],
                         callback_url=CALLBACK)
    assert response.status_code == 202 and len(callbacks) == 2  # a wake-up per item, each after the commit
    job = BulkJob.objects.get(id=response.json()["job_id"])
    assert (job.status, job.total, job.callback_url) == ("queued", 2, CALLBACK)
    items = list(job.items.values_list("index", "chat_id", "kind", "payload", "status"))
    assert items == [(0, CHAT_A, "text", {"text": "one"}, "pending"),
                     (1, CHAT_B, "link", {"url": "https://e.com/x"}, "pending")]
    ids = [item_id for item_id in job.items.order_by("index").values_list("id", flat=True)]
    assert [(name, args) for name, args, _ in queued] == [("bulk.tasks.bulk_item_send", (i,)) for i in ids]
    assert all(options["time_limit"] >= 10 for _, _, options in queued)


@pytest.mark.django_db
@pytest.mark.parametrize("messages, bad", [
    ([{"chat_id": CHAT_A, "text": "ok"}, {"chat_id": CHAT_A}, {"chat_id": CHAT_A, "text": "x" * 1001}], {"1", "2"}),
    ([{"chat_id": CHAT_A, "url": "ftp://files.example.com/a"}], {"0"}),
    ([{"chat_id": CHAT_A, "image_id": "1.a", "image_url": "https://e.com/a.jpg"}], {"0"}),
    ([{"chat_id": "u2i-a/../../token", "text": "hi"}], {"0"}),
    ([{"chat_id": CHAT_A, "txt": "typo"}], {"0"}),
    (["just a string", {"chat_id": CHAT_A, "text": "ok"}], {"0"}),
])
def test_bad_items_get_400_naming_each_by_index_and_nothing_is_queued(api, queued, messages, bad):
    response = start(api, messages)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["details"]["messages"]) == bad
    for index in bad:
        assert index in error["message"]
    assert BulkJob.objects.count() == 0 and BulkItem.objects.count() == 0 and queued == []


@pytest.mark.django_db
@pytest.mark.parametrize("body, field", [
    ({"messages": []}, "messages"),
    ({"messages": {"chat_id": CHAT_A, "text": "hi"}}, "messages"),
    ({}, "messages"),
    ({"messages": [{"chat_id": CHAT_A, "text": "hi"}] * 1001}, "messages"),
    ({"messages": [{"chat_id": CHAT_A, "text": "hi"}], "callback_url": "javascript:alert(1)"}, "callback_url"),
    ({"messages": [{"chat_id": CHAT_A, "text": "hi"}], "extra": 1}, "extra"),
])
def test_a_bad_request_body_gets_400_naming_the_field(api, queued, body, field):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["details"]
    assert BulkJob.objects.count() == 0


@pytest.mark.django_db
def test_malformed_json_and_unknown_jobs_get_the_json_error_envelope(api):
    assert error_of(api.post(URL, data='{"messages": [', content_type="application/json"))["code"] == "parse_error"
    missing = api.get(f"{URL}/{uuid.uuid4()}")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert api.post(f"{URL}/{uuid.uuid4()}/cancel").status_code == 404
    not_a_uuid = api.get(f"{URL}/12345")
    assert not_a_uuid.status_code == 404 and error_of(not_a_uuid)["code"] == "not_found"


@pytest.mark.django_db
def test_the_api_key_guards_the_bulk_endpoints(api, queued, settings):
    settings.API_KEY = "s3cret"
    assert start(api, [{"chat_id": CHAT_A, "text": "hi"}]).status_code == 401
    api.credentials(HTTP_X_API_KEY="s3cret")
    assert start(api, [{"chat_id": CHAT_A, "text": "hi"}]).status_code == 202


@pytest.mark.django_db
def test_the_same_idempotency_key_replays_the_answer_without_a_second_job(api, queued):
    first = api.post(URL, {"messages": [{"chat_id": CHAT_A, "text": "hi"}]}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = api.post(URL, {"messages": [{"chat_id": CHAT_A, "text": "hi"}]}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert BulkJob.objects.count() == 1
    other = api.post(URL, {"messages": [{"chat_id": CHAT_B, "text": "hi"}]}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert other.status_code == 409


@pytest.mark.django_db(transaction=True)
def test_cancel_stops_the_pending_items_and_a_completed_job_cannot_be_cancelled(api, queued, chats):
    job_id = start(api, [{"chat_id": CHAT_A, "text": f"n{i}"} for i in range(4)]).json()["job_id"]
    from bulk.sending import bulk_item_send

    first = BulkItem.objects.get(job_id=job_id, index=0)
    assert bulk_item_send(item_id=first.id) == "sent"
    cancelled = api.post(f"{URL}/{job_id}/cancel")
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert (body["status"], body["sent"], body["pending"], body["cancelled"]) == ("cancelled", 1, 0, 3)
    assert [i["status"] for i in body["items"]] == ["sent", "cancelled", "cancelled", "cancelled"]
    later = BulkItem.objects.get(job_id=job_id, index=1)
    assert bulk_item_send(item_id=later.id) is None  # a wake-up still in the queue sends nothing
    assert len(chats.sent()) == 1
    assert api.post(f"{URL}/{job_id}/cancel").status_code == 200  # again: harmless

    done = start(api, [{"chat_id": CHAT_B, "text": "solo"}]).json()["job_id"]
    bulk_item_send(item_id=BulkItem.objects.get(job_id=done).id)
    refused = api.post(f"{URL}/{done}/cancel")
    assert refused.status_code == 409 and error_of(refused)["code"] == "job_finished"


@pytest.mark.django_db(transaction=True)
def test_the_callback_gets_one_signed_post_with_the_summary(api, chats, eager, avito, settings):
    settings.N8N_WEBHOOK_SECRET = SECRET
    avito.post(CALLBACK, json={"ok": True})
    job_id = start(api, [{"chat_id": CHAT_A, "text": "hi"}, {"chat_id": "u2i-missing", "text": "hi"}],
                   callback_url=CALLBACK).json()["job_id"]
    posts = [call for call in avito.calls if call.request.url == CALLBACK]
    assert len(posts) == 1
    request = posts[0].request
    summary = json.loads(request.body)
    assert summary["event"] == "bulk_job.finished"
    assert (summary["job_id"], summary["status"], summary["sent"], summary["failed"]) == (job_id, "completed", 1, 1)
    assert summary["items"][1]["error"] == "Chat not found"
    Webhook(SECRET).verify(request.body, {k: request.headers[k] for k in
                                          ("webhook-id", "webhook-timestamp", "webhook-signature")})
    assert request.headers["webhook-id"] == f"bulk_{job_id}"
    assert BulkJob.objects.get(id=job_id).callback_status == "delivered (HTTP 200)"


@pytest.mark.django_db(transaction=True)
def test_a_failed_callback_is_recorded_and_not_repeated(api, chats, eager, avito):
    avito.post(CALLBACK, status=500, body="down")
    job_id = start(api, [{"chat_id": CHAT_A, "text": "hi"}], callback_url=CALLBACK).json()["job_id"]
    from bulk.services import bulk_job_callback

    assert bulk_job_callback(job_id=job_id) is None  # already done once: no second POST
    assert len([c for c in avito.calls if c.request.url == CALLBACK]) == 1
    assert BulkJob.objects.get(id=job_id).callback_status == "failed: HTTP 500 Internal Server Error"  # no body


@pytest.mark.django_db(transaction=True)
def test_the_openapi_schema_describes_the_bulk_endpoints(api):
    schema = json.loads(api.get("/openapi.json?format=json").content)
    operation = schema["paths"][URL]["post"]
    assert "202" in operation["responses"] and "400" in operation["responses"]
    assert "/api/messages/send/bulk/{job_id}/cancel" in schema["paths"]
    item = schema["components"]["schemas"]["BulkItemRequestRequest"]
    assert len(item["oneOf"]) == 3


@pytest.mark.django_db
def test_the_admin_lists_jobs_with_progress_and_cancels_them(admin_client, queued):
    from bulk.services import bulk_job_create

    job = bulk_job_create(items=[{"kind": "text", "chat_id": CHAT_A, "payload": {"text": f"n{i}"}} for i in range(3)])
    BulkItem.objects.filter(job=job, index=0).update(status="sent", message_id="m-1")
    listing = admin_client.get("/admin/bulk/bulkjob/")
    assert listing.status_code == 200
    assert b'<progress value="1" max="3">' in listing.content
    page = admin_client.get(f"/admin/bulk/bulkjob/{job.id}/change/")
    assert page.status_code == 200 and b"m-1" in page.content and b"n2" in page.content  # what each item says
    done = admin_client.post("/admin/bulk/bulkjob/", {"action": "cancel_jobs", "_selected_action": [str(job.id)]})
    assert done.status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert list(job.items.order_by("index").values_list("status", flat=True)) == ["sent", "cancelled", "cancelled"]


def test_old_admin_addresses_of_bulk_jobs_redirect_to_the_bulk_app(client):
    answer = client.get("/admin/messenger/bulkjob/?status__exact=running")
    assert answer.status_code == 301 and answer["Location"] == "/admin/bulk/bulkjob/?status__exact=running"
    assert client.get("/admin/messenger/bulkitem/5/change/")["Location"] == "/admin/bulk/bulkitem/5/change/"
    assert client.get("/admin/messenger/chat/").status_code == 302  # the rest of messenger is untouched (login)
