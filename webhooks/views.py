"""The endpoint Avito calls: `/webhook/avito` or, with AVITO_WEBHOOK_SECRET, `/webhook/avito/<secret>`.

Outside `/api/` (no API key, no rate limit) and exempt from CSRF (as every DRF view is).
It checks the path secret in constant time, hands the raw body to `event_receive` and
answers 200 `{"ok": true}` in milliseconds, well inside Avito's 2 seconds. With a secret
set, any other path answers exactly like an unknown path (404), so the secret cannot be
probed. Under production settings (WEBHOOK_SECRET_REQUIRED) a gateway without a secret takes
no notification at all: the bare path answers 404 too, and the start-up log says why.

The class is a DRF APIView so that drf-spectacular documents it with the rest of the API,
but it dispatches as a plain Django view: DRF's request wrapping, content negotiation and
rendering cost more CPU than storing the notification, on the one endpoint that every
customer message passes through (docs/benchmarks.md, webhook ingest).
"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from core.errors import DependencyUnavailable
from core.errors import error_body, json_error_404
from core.metrics import webhook_event_counted
from core.api.responses import ErrorEnvelope
from webhooks.intake import NotificationInvalid, event_receive

# Avito's notification is a few kilobytes; refuse anything far larger before reading it.
MAX_BODY_BYTES = 1024 * 1024
OK = b'{"ok": true}'
# avitogw_webhook_events_total{outcome}: Avito's reachability probe counts as ignored.
OUTCOMES = {"stored": "stored", "duplicate": "duplicate", "ignored": "ignored", "probe": "ignored"}

EXAMPLE = OpenApiExample("a customer's text message", request_only=True, value={
    "id": "5e9f2a1c-8d1b-4c1e-9a51-0f2f6c3b7d10", "version": "v3.0.0", "timestamp": 1718000000,
    "payload": {"type": "message", "value": {
        "id": "4f8d8b0c1e2a4b6c8d0e1f2a3b4c5d6e", "chat_id": "u2i-y9ykWR1EkNOJJMaE9i9m8w", "user_id": 94235311,
        "author_id": 141906442, "created": 1718000000, "type": "text", "chat_type": "u2i",
        "content": {"text": "Здравствуйте, ещё продаёте?"}, "item_id": 1768287444,
        "published_at": "2024-06-10T06:13:20Z", "read": None}}})
# Described, not enforced: whatever JSON object Avito sends is stored (a probe `{}`, unknown types, odd
# values are all acknowledged), so the document promises no more than the view checks.
NOTIFICATION = inline_serializer("AvitoNotification", {
    "id": serializers.JSONField(required=False, help_text="the notification's id (a string)"),
    "version": serializers.JSONField(required=False, help_text="`v3.0.0`"),
    "timestamp": serializers.JSONField(required=False, help_text="Unix seconds"),
    "payload": serializers.JSONField(required=False, help_text=(
        "`{\"type\": \"message\", \"value\": {...}}`: Avito's message (id, chat_id, user_id, author_id, "
        "created, type, chat_type, content, item_id, published_at, read). Other types are acknowledged and "
        "ignored; a message with malformed ids or values is stored as unprocessable.")),
})
SCHEMA = {
    "tags": ["webhook"], "auth": [], "request": NOTIFICATION, "examples": [EXAMPLE],
    "summary": "Avito's notifications (v3): stored at once, processed and delivered to n8n in the background",
    "description": "`{}` (Avito's reachability probe) and unknown `payload.type` get 200 and are not delivered; "
                   "a repeated message id is acknowledged and dropped. With AVITO_WEBHOOK_SECRET set, only "
                   "`/webhook/avito/<secret>` exists; under production settings without it, neither path takes "
                   "notifications (404).",
    "responses": {200: inline_serializer("WebhookAck", {"ok": serializers.BooleanField()}),
                  400: OpenApiResponse(ErrorEnvelope, description="not JSON, not a JSON object, or JSON no "
                                                                   "database stores (NaN, lone surrogates)"),
                  404: OpenApiResponse(ErrorEnvelope, description="wrong or missing path secret"),
                  413: OpenApiResponse(ErrorEnvelope, description="larger than 1 MB"),
                  503: OpenApiResponse(ErrorEnvelope, description="the database could not store it "
                                                                  "(dependency_unavailable)")},
}
SECRET = OpenApiParameter("secret", str, OpenApiParameter.PATH, description="AVITO_WEBHOOK_SECRET")


def _path_secret_ok(secret: str | None) -> bool:
    """The path's secret is AVITO_WEBHOOK_SECRET; without one only the bare path, and not in production."""
    expected = settings.AVITO_WEBHOOK_SECRET
    if not expected:
        return secret is None and not settings.WEBHOOK_SECRET_REQUIRED
    return secret is not None and constant_time_compare(secret, expected)


class AvitoWebhookView(APIView):
    authentication_classes: list = []  # for the schema: DRF's dispatch, which would use them, is skipped
    permission_classes: list = []
    parser_classes = [JSONParser]  # for the schema too: the body is JSON, whatever its Content-Type says

    def dispatch(self, request: HttpRequest, *args, secret: str | None = None, **kwargs) -> HttpResponse:
        if not _path_secret_ok(secret):  # before anything else, whatever the method
            webhook_event_counted("rejected")
            return json_error_404(request)
        if request.method != "POST":
            response = JsonResponse(error_body("method_not_allowed", f'Method "{request.method}" not allowed.'),
                                    status=405)
            response["Allow"] = "POST"
            return response
        return self.post(request, secret)

    @extend_schema(operation_id="avito_webhook", **SCHEMA)
    def post(self, request: HttpRequest, secret: str | None = None) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            webhook_event_counted("rejected")
            return JsonResponse(error_body("payload_too_large", "The notification is larger than 1 MB."), status=413)
        try:
            receipt = event_receive(body=request.body)
        except NotificationInvalid as exc:
            webhook_event_counted("rejected")
            return JsonResponse(error_body("parse_error", str(exc)), status=400)
        except DependencyUnavailable as exc:  # the database stayed down for the whole retry budget
            webhook_event_counted("rejected")
            return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status)
        webhook_event_counted(OUTCOMES[receipt.outcome])
        return HttpResponse(OK, content_type="application/json")


class AvitoWebhookSecretView(AvitoWebhookView):
    @extend_schema(operation_id="avito_webhook_with_secret", parameters=[SECRET], **SCHEMA)
    def post(self, request: HttpRequest, secret: str | None = None) -> HttpResponse:
        return super().post(request, secret)
