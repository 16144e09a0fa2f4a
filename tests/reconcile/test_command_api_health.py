"""`manage.py avito_reconcile`, `GET /api/reconcile/runs`, and what `/health` says about reconciliation."""
from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from reconcile.models import ReconcileRun, ReconcileState, RunOutcome
from tests.reconcile.conftest import CHATS_URL, chat, message, messages_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reconcile_settings", "eager")]


def command(*args) -> str:
    out = StringIO()
    call_command("avito_reconcile", *args, stdout=out)
    return out.getvalue()


def test_the_command_over_a_window_delivers_what_was_never_stored(avito, n8n, django_capture_on_commit_callbacks):
    now = timezone.now()
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=now - timedelta(hours=1),
                                              last=message("m-1", created=now - timedelta(hours=1))),
                                         chat("u2i-z", updated=now - timedelta(hours=5))], "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [
        message("m-1", created=now - timedelta(hours=1)), message("m-0", created=now - timedelta(hours=3))],
        "meta": {"has_more": False}})

    with django_capture_on_commit_callbacks(execute=True):
        out = command("--hours", "2")

    assert "Read 1 chat(s)" in out and "1 message(s) not stored before" in out and "Outcome: ok" in out
    assert [body["meta"]["external_message_id"] for body in n8n.bodies()] == ["m-1"]
    assert ReconcileRun.objects.get().trigger == "command"


def test_the_command_with_since_and_without_a_window(avito, n8n):
    out = command()  # the first start: only the watermark
    assert "First start" in out and ReconcileState.objects.get().watermark is not None
    avito.get(CHATS_URL, json={"chats": [], "meta": {"has_more": False}})
    out = command("--since", "2025-12-01T09:00:00+03:00")
    assert "since 2025-12-01T09:00:00+03:00" in out and "0 message(s)" in out


@pytest.mark.parametrize("args, problem", [
    (["--since", "yesterday"], "ISO 8601"), (["--hours", "-2"], "--hours"), (["--hours", "x"], "--hours"),
])
def test_the_command_refuses_a_bad_window(args, problem):
    with pytest.raises(CommandError, match=problem):
        command(*args)


def test_the_command_says_when_another_run_is_going_on():
    ReconcileState.objects.create(id=1, lease_owner="beat", lease_until=timezone.now() + timedelta(minutes=1))
    with pytest.raises(CommandError, match="Another reconciliation run"):
        command("--hours", "1")


@pytest.fixture
def api(settings):
    settings.API_KEY = "k" * 32
    return APIClient()


def test_runs_api_lists_the_latest_runs_behind_the_api_key(api):
    now = timezone.now()
    for minutes, outcome in ((3, RunOutcome.OK), (2, RunOutcome.BUDGET), (1, RunOutcome.OK)):
        ReconcileRun.objects.create(started_at=now - timedelta(minutes=minutes), outcome=outcome, calls=minutes,
                                    finished_at=now - timedelta(minutes=minutes), messages_found=1)
    assert api.get("/api/reconcile/runs").status_code == 401

    answer = api.get("/api/reconcile/runs", {"limit": 2}, HTTP_X_API_KEY="k" * 32)

    assert answer.status_code == 200
    body = answer.json()
    assert [run["calls"] for run in body["runs"]] == [1, 2] and body["interval"] == 60
    assert set(body["runs"][0]) == {"id", "trigger", "outcome", "started_at", "finished_at", "since", "watermark",
                                    "chats_seen", "messages_found", "calls", "error"}


def test_runs_api_refuses_a_bad_limit_in_the_error_envelope(api):
    answer = api.get("/api/reconcile/runs", {"limit": 0}, HTTP_X_API_KEY="k" * 32)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "validation_error" and "limit" in answer.json()["error"]["details"]


def test_health_shows_the_age_of_the_last_success_and_degrades_after_three_intervals(client, settings):
    settings.AVITO_WEBHOOK_SECRET = "path-secret"  # otherwise /health is degraded for that reason alone
    now = timezone.now()
    ReconcileRun.objects.create(started_at=now - timedelta(seconds=100), finished_at=now - timedelta(seconds=100),
                                outcome=RunOutcome.OK)
    ReconcileRun.objects.create(started_at=now - timedelta(seconds=10), finished_at=now - timedelta(seconds=10),
                                outcome=RunOutcome.ERROR)
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["checks"]["reconcile"] == "ok"
    assert 100 <= body["reconcile"]["last_success_age"] < 160 and body["reconcile"]["interval"] == 60

    ReconcileRun.objects.filter(outcome=RunOutcome.OK).update(finished_at=now - timedelta(seconds=181))
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "degraded" and answer.json()["checks"]["reconcile"].startswith("stale")


def test_health_without_any_run_degrades_once_the_process_has_waited_three_intervals(client, monkeypatch, settings):
    import avitogw.health

    settings.AVITO_WEBHOOK_SECRET = "path-secret"  # otherwise /health is degraded for that reason alone

    monkeypatch.setattr(avitogw.health, "STARTED", avitogw.health.time.time())
    assert client.get("/health").json()["status"] == "ok"
    monkeypatch.setattr(avitogw.health, "STARTED", avitogw.health.time.time() - 181)
    assert client.get("/health").json()["checks"]["reconcile"].startswith("stale")


def test_an_install_without_an_avito_account_runs_nothing_and_health_says_what_is_missing(client, settings, caplog):
    from reconcile.services import reconcile_scheduled

    settings.AVITO_WEBHOOK_SECRET = "path-secret"
    settings.AVITO_CLIENT_SECRET = ""
    settings.AVITO_USER_ID = 0
    with caplog.at_level("INFO", logger="reconcile.services"):
        assert reconcile_scheduled() is None and reconcile_scheduled() is None

    assert not ReconcileRun.objects.exists()
    assert not [record for record in caplog.records if record.levelname in ("WARNING", "ERROR")]
    assert len([record for record in caplog.records if "waits for" in record.getMessage()]) <= 1
    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert health["checks"]["reconcile"] == "waiting: AVITO_CLIENT_SECRET, AVITO_USER_ID not set"


def test_the_admin_lists_runs_read_only(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("staff", "staff@example.com", "pw"))
    run = ReconcileRun.objects.create(started_at=timezone.now(), outcome=RunOutcome.BUDGET, calls=25,
                                      error="the Avito call window is at least 1/4 full")
    page = client.get("/admin/reconcile/reconcilerun/")
    assert page.status_code == 200 and "1/4 full" in page.content.decode()
    assert client.get("/admin/reconcile/reconcilerun/add/").status_code == 403
    detail = client.get(f"/admin/reconcile/reconcilerun/{run.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()


def test_health_says_how_far_behind_reconciliation_is_not_only_that_runs_succeed(client, api, settings):
    settings.AVITO_WEBHOOK_SECRET = "path-secret"
    now = timezone.now()
    # Runs go on and succeed (the last one 10 s ago), but the window they read began 340 s ago.
    ReconcileRun.objects.create(started_at=now - timedelta(seconds=12), finished_at=now - timedelta(seconds=10),
                                outcome=RunOutcome.OK)
    ReconcileState.objects.create(id=1, watermark=now - timedelta(seconds=340), window_since=now - timedelta(seconds=355))
    body = client.get("/health", HTTP_X_API_KEY="k" * 32).json()
    assert body["status"] == "degraded" and body["checks"]["reconcile"] in ("behind: 340 s", "behind: 341 s")
    assert 340 <= body["reconcile"]["lag_seconds"] < 345
    listed = api.get("/api/reconcile/runs", HTTP_X_API_KEY="k" * 32).json()
    assert 340 <= listed["lag_seconds"] < 345

    ReconcileState.objects.filter(id=1).update(watermark=now - timedelta(seconds=50))  # caught up: within 3 intervals
    body = client.get("/health", HTTP_X_API_KEY="k" * 32).json()
    assert body["status"] == "ok" and body["checks"]["reconcile"] == "ok" and 50 <= body["reconcile"]["lag_seconds"] < 55


def test_the_command_reads_every_chat_in_full_even_one_whose_last_message_came(avito, n8n,
                                                                                django_capture_on_commit_callbacks):
    """By hand, nothing is spared on a bet: a message dropped before one that came is found."""
    from webhooks.models import IncomingEvent

    now = timezone.now()
    came, lost = message("m-came", created=now - timedelta(minutes=5)), message("m-lost", created=now - timedelta(minutes=6))
    IncomingEvent.objects.create(message_id="m-came", chat_id="u2i-a", raw={}, next_attempt_at=now, status="done")
    avito.get(CHATS_URL, json={"chats": [chat("u2i-a", updated=now - timedelta(minutes=5), last=came)],
                               "meta": {"has_more": False}})
    avito.get(messages_url("u2i-a"), json={"messages": [came, lost], "meta": {"has_more": False}})
    with django_capture_on_commit_callbacks(execute=True):
        out = command("--hours", "1")
    assert "1 message(s) not stored before" in out
    assert [body["meta"]["external_message_id"] for body in n8n.bodies()] == ["m-lost"]
