"""BulkJobViewSet: start a bulk send, watch its progress, cancel the rest."""
from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from core.errors import InvalidInput
from bulk.selectors import bulk_job_progress
from bulk.api.serializers import BulkJobAccepted, BulkJobProgress, BulkSendRequest
from bulk.services import bulk_job_cancel, bulk_job_create
from messenger.api.common import IDEMPOTENCY_PARAMETER, idempotent_response
from core.api.responses import ErrorEnvelope, errors

JOB_ID = OpenApiParameter("job_id", str, OpenApiParameter.PATH, description="the job_id the send answered with")
CHAT = "u2i-y9ykWR1EkNOJJMaE9i9m8w"
BAD_ITEMS = {"messages": {"1": {"text": ["This field is required."]}, "3": {"url": ["Must be an http:// or https:// URL."]}}}


def _validated(request) -> dict:
    serializer = BulkSendRequest(data=request.data)
    if serializer.is_valid():
        return dict(serializer.validated_data)
    bad = serializer.errors.get("messages")
    named = f"messages {', '.join(bad)}" if isinstance(bad, dict) else ", ".join(serializer.errors)
    raise InvalidInput(f"Invalid input: {named}. Nothing was queued.", details=serializer.errors)


def _status_url(request, job_id) -> str:
    path = reverse("bulk-job-detail", kwargs={"job_id": job_id})
    return settings.PUBLIC_BASE_URL + path if settings.PUBLIC_BASE_URL else request.build_absolute_uri(path)


class BulkJobViewSet(viewsets.ViewSet):
    @extend_schema(
        operation_id="messages_send_bulk", tags=["bulk"], summary="Send many messages as a background job",
        description="Every item is validated first, exactly as its single-send endpoint would (text, link or "
                    "image by `image_url`/`image_id`); one bad item refuses the whole request with 400 and its "
                    "index in `details.messages`, and nothing is queued. Workers then send the items within "
                    "the shared Avito rate limit; each is sent at most once. `callback_url` gets one POST "
                    "with the job's summary when it ends, signed like n8n deliveries.",
        request=BulkSendRequest, parameters=[IDEMPOTENCY_PARAMETER],
        responses={202: BulkJobAccepted, 400: OpenApiResponse(ErrorEnvelope, description="validation_error: "
                   "details.messages names each bad item by index, e.g. " + str(BAD_ITEMS)),
                   **errors(401, 409, 429)},
        examples=[OpenApiExample("mixed", request_only=True, value={
            "messages": [
                {"chat_id": CHAT, "text": "Здравствуйте! Скидка 10% до пятницы."},
                {"chat_id": "u2i-u19PNvVypwmAXTQXzmjArw", "url": "https://example.com/sale", "text": "Подробнее:"},
                {"chat_id": "u2u-u19PNvVypwmAXTQXzmjArw", "image_url": "https://example.com/photo.jpg"},
            ],
            "callback_url": "https://n8n.example.com/webhook/bulk-done",
        }), OpenApiExample("accepted", response_only=True, status_codes=["202"], value={
            "job_id": "3f0c6f1e-2b7d-4c55-9a43-5d2f7e0b9a11", "status": "queued", "total": 3,
            "status_url": "https://gateway.example.com/api/messages/send/bulk/3f0c6f1e-2b7d-4c55-9a43-5d2f7e0b9a11",
        })],
    )
    def create(self, request):
        data = _validated(request)

        def start() -> dict:
            job = bulk_job_create(items=data["messages"], callback_url=data.get("callback_url") or "")
            return {"job_id": str(job.id), "status": job.status, "total": job.total,
                    "status_url": _status_url(request, job.id)}

        return idempotent_response(request, start, status=202)

    @extend_schema(
        operation_id="messages_send_bulk_status", tags=["bulk"], summary="A bulk job's progress",
        parameters=[JOB_ID], responses={200: BulkJobProgress, **errors(401, 404, 429)},
        examples=[OpenApiExample("running", response_only=True, value={
            "job_id": "3f0c6f1e-2b7d-4c55-9a43-5d2f7e0b9a11", "status": "running", "total": 3, "sent": 1,
            "failed": 1, "pending": 1, "cancelled": 0, "created_at": "2025-12-01T17:30:00+00:00",
            "finished_at": None, "items": [
                {"index": 0, "chat_id": CHAT, "status": "sent", "message_id": "bdcc5bac2d00345f1cc66fa657813958",
                 "error": None},
                {"index": 1, "chat_id": "u2i-u19PNvVypwmAXTQXzmjArw", "status": "failed", "message_id": None,
                 "error": "Not found"},
                {"index": 2, "chat_id": "u2u-u19PNvVypwmAXTQXzmjArw", "status": "pending", "message_id": None,
                 "error": None},
            ]})],
    )
    def retrieve(self, request, job_id):
        return Response(bulk_job_progress(job_id=job_id))

    @extend_schema(
        operation_id="messages_send_bulk_cancel", tags=["bulk"], summary="Cancel the rest of a bulk job",
        description="Items not yet sent become `cancelled`; an item already being sent finishes. Cancelling "
                    "a cancelled job again is harmless; a completed job answers 409 `job_finished`.",
        request=None, parameters=[JOB_ID],
        responses={200: BulkJobProgress, 409: OpenApiResponse(ErrorEnvelope, description="job_finished"),
                   **errors(401, 404, 429)},
    )
    def cancel(self, request, job_id):
        job = bulk_job_cancel(job_id=job_id)
        return Response(bulk_job_progress(job_id=job.id))
