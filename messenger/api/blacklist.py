"""BlacklistViewSet: block a user at Avito; the entry is stored for the admin."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from core.api.validation import validated
from messenger.api.responses import OkAnswer
from core.api.responses import errors
from messenger.api.serializers import BlacklistRequest
from messenger.services.blacklist import blacklist_add


class BlacklistViewSet(viewsets.ViewSet):
    @extend_schema(
        operation_id="blacklist_add", tags=["blacklist"], summary="Block a user",
        description="`reason_id`: 1 spam, 2 fraud, 3 insults, 4 other. `item_id` names the item the chat was about.",
        request=BlacklistRequest, responses={200: OkAnswer, **errors(400, 401, 404, 415, 429, 502, 504)},
        examples=[OpenApiExample("block", value={"user_id": 94235311, "item_id": 1768287444, "reason_id": 1},
                                 request_only=True)],
    )
    def create(self, request):
        return Response(blacklist_add(**validated(BlacklistRequest, request.data)))
