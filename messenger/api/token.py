"""TokenViewSet: the shared Avito access token, as cached or freshly fetched."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.response import Response

from messenger.api.responses import TokenAnswer
from core.api.responses import errors
from messenger.services.token import token_get, token_refresh


class TokenViewSet(viewsets.ViewSet):
    @extend_schema(
        operation_id="token_retrieve", tags=["token"], summary="The current Avito access token",
        description="The token shared by every process; fetched from Avito when there is none yet.",
        responses={200: TokenAnswer, **errors(401, 429, 502, 504)},
    )
    def retrieve(self, request):
        return Response(token_get())

    @extend_schema(
        operation_id="token_refresh", tags=["token"], summary="Fetch a new Avito access token", request=None,
        responses={200: TokenAnswer, **errors(401, 429, 502, 504)},
    )
    def refresh(self, request):
        return Response(token_refresh())
