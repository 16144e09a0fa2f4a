"""WebhookSubscriptionViewSet: register, remove and list the URLs Avito sends new messages to."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from core.api.validation import validated
from messenger.api.responses import SubscriptionsAnswer, WebhookUrlAnswer
from core.api.responses import errors
from messenger.api.serializers import WebhookUrlRequest
from messenger.services.subscriptions import webhook_subscribe, webhook_subscriptions, webhook_unsubscribe

DEFAULT_NOTE = ("Without `url`, the gateway's own incoming address is used: PUBLIC_BASE_URL + `/webhook/avito` "
                "(+ `/<AVITO_WEBHOOK_SECRET>` when set); with neither, 400.")
EXAMPLE = OpenApiExample("url", value={"url": "https://gw.example.com/webhook/avito/s3cret"}, request_only=True)


class WebhookSubscriptionViewSet(viewsets.ViewSet):
    @extend_schema(
        operation_id="webhook_subscribe", tags=["webhook"], summary="Subscribe a URL to Avito's notifications",
        description=DEFAULT_NOTE, request=WebhookUrlRequest, examples=[EXAMPLE],
        responses={200: WebhookUrlAnswer, **errors(400, 401, 415, 429, 502, 504)},
    )
    def subscribe(self, request):
        return Response(webhook_subscribe(**validated(WebhookUrlRequest, request.data)))

    @extend_schema(
        operation_id="webhook_unsubscribe", tags=["webhook"], summary="Unsubscribe a URL",
        description=DEFAULT_NOTE, request=WebhookUrlRequest, examples=[EXAMPLE],
        responses={200: WebhookUrlAnswer, **errors(400, 401, 415, 429, 502, 504)},
    )
    def unsubscribe(self, request):
        return Response(webhook_unsubscribe(**validated(WebhookUrlRequest, request.data)))

    @extend_schema(
        operation_id="webhook_subscriptions", tags=["webhook"], summary="URLs subscribed at Avito",
        responses={200: SubscriptionsAnswer, **errors(401, 429, 502, 504)},
    )
    def subscriptions(self, request):
        return Response(webhook_subscriptions())
