"""The status board's counts: each figure counts its own rows and status only, and links to that list.

Seen as a superuser on the admin's front page (the reconcile figure: test_admin_status_reconcile.py).
"""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from bulk.models import BulkJob, BulkJobStatus
from webhooks.models import Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(admin_client):
    def read() -> dict:
        page = admin_client.get(reverse("admin:index"))
        assert page.status_code == 200
        return {figure.label: figure for figure in page.context["status_board"]}
    return read


def deliveries(**by_status: int) -> None:
    for status, count in by_status.items():
        for n in range(count):
            Delivery.objects.create(event_id=f"{status}-{n}", body="{}", status=status,
                                    next_attempt_at=timezone.now())


def test_deliveries_pending_counts_the_pending_ones_only(board):
    deliveries(**{DeliveryStatus.PENDING: 3, DeliveryStatus.FAILED: 2, DeliveryStatus.DELIVERED: 5})
    figure = board()["Deliveries to n8n pending"]
    assert figure.value == "3"
    assert figure.url == "/admin/webhooks/delivery/?status__exact=pending"
    assert board()["Deliveries to n8n failed"].value == "2"


def test_bulk_jobs_running_counts_the_running_ones_only(board):
    for status, count in ((BulkJobStatus.RUNNING, 2), (BulkJobStatus.QUEUED, 1), (BulkJobStatus.COMPLETED, 4),
                          (BulkJobStatus.CANCELLED, 1)):
        for _ in range(count):
            BulkJob.objects.create(status=status, total=1)
    figure = board()["Bulk jobs running"]
    assert figure.value == "2"
    assert figure.url == "/admin/bulk/bulkjob/?status__exact=running"
