"""Errors stop at the API edge (issue 12 item 6): gateway errors become the envelope, bugs reach Django's 500 path.

Services and workers raise `core.errors.GatewayError` subclasses; the one DRF exception
handler maps them. An exception nobody expected is not turned into a quiet answer there: it
goes through Django's own 500 handling, so `got_request_exception` (what an error tracker
hooks) and the `django.request` log see it, and `handler500` still answers with the envelope.
"""
from __future__ import annotations

import ast
import pathlib

import pytest
from django.core.signals import got_request_exception
from django.test import Client

from core import errors
from avitogw.exception_handler import api_exception_handler
from messenger.api import chats as chat_views
from messenger.services.limits import invalid
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db
ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_an_unexpected_exception_reaches_djangos_500_path_and_the_body_is_still_the_envelope(monkeypatch, caplog):
    def broken(**kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(chat_views, "chat_get", broken)
    seen = []

    def tracker(sender, request, **kwargs):
        seen.append(request.path)

    got_request_exception.connect(tracker)
    try:
        response = Client(raise_request_exception=False).get("/api/chats/u2i-abc")
    finally:
        got_request_exception.disconnect(tracker)

    assert seen == ["/api/chats/u2i-abc"]  # the error tracker's hook fired
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert error_of(response) == {"code": "internal_error", "message": "The gateway failed to handle this request.",
                                  "details": None}
    assert any(r.name == "django.request" and r.exc_info and r.exc_info[0] is ZeroDivisionError
               for r in caplog.records)


def test_the_drf_handler_leaves_unknown_exceptions_to_django():
    assert api_exception_handler(ZeroDivisionError("a bug"), {"view": None}) is None


@pytest.mark.parametrize("error, status, code", [
    (invalid("text", "Must be a non-empty string."), 400, "validation_error"),
    (errors.NotFound("No bulk job 1."), 404, "not_found"),
    (errors.Conflict("finished", code="job_finished"), 409, "job_finished"),
    (errors.DependencyUnavailable("Redis is down."), 503, "dependency_unavailable"),
    (errors.OutcomeUnknown("unknown", details={"outcome": "unknown"}), 504, "upstream_timeout"),
])
def test_gateway_errors_become_the_envelope_with_their_status(error, status, code):
    assert isinstance(error, errors.GatewayError)
    response = api_exception_handler(error, {"view": None})
    assert response.status_code == status
    assert response.data["error"]["code"] == code and response.data["error"]["message"] == error.message


SERVICE_AND_WORKER_MODULES = [
    *sorted((ROOT / "messenger" / "services").glob("*.py")),
    *(ROOT / "bulk" / name for name in ("sending.py", "services.py", "selectors.py", "tasks.py", "callback_client.py")),
    *(ROOT / "webhooks" / name for name in ("delivery.py", "selectors.py", "processing.py", "intake.py",
                                            "message_events.py", "tasks.py")),
    *sorted((ROOT / "avitogw" / "work").glob("*.py")),
    *sorted((ROOT / "avitogw" / "n8n").glob("*.py")),
    *sorted((ROOT / "reconcile").glob("*.py")),
]


@pytest.mark.parametrize("path", SERVICE_AND_WORKER_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_services_and_workers_know_nothing_of_drf_or_its_exceptions(path):
    tree = ast.parse(path.read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.startswith("rest_framework") or name == "avitogw.exception_handler"}
