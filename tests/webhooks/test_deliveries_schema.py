"""The deliveries API against its own OpenAPI schema: generated requests, documented answers only."""
from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from webhooks.models import Delivery, DeliveryStatus

schema = schemathesis.openapi.from_wsgi("/openapi.json", WSGIHandler()).include(path_regex="^/api/deliveries")


@pytest.fixture
def some_deliveries(db):
    now = timezone.now()
    for index, status in enumerate(DeliveryStatus.values):
        Delivery.objects.create(event_id=f"avito-msg-s{index}", body='{"event_id": "x"}', status=status, attempts=1,
                                next_attempt_at=now, last_error="n8n answered HTTP 500." if index else "")


@schema.parametrize()
@hypothesis_settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented(case, some_deliveries, keep_test_connection, django_capture_on_commit_callbacks,
                                    settings):
    settings.API_RATE_LIMIT = "100000/m"
    with django_capture_on_commit_callbacks():  # a replay's wake-up is not sent anywhere
        case.call_and_validate(checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                       response_schema_conformance])
