"""Idempotency-Key for sends, here and in the bulk API (validating input is core/api/validation.py).

Kept beside its store (messenger.services.idempotency and its model), since the kernel imports no app.

`idempotent_response` is the one way a send endpoint (here or in the bulk API) honours
`Idempotency-Key`: same key and body within 24 h replays the stored answer.
"""
from __future__ import annotations

from typing import Callable

from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from messenger.services.idempotency import HEADER, MAX_KEY_LENGTH, idempotency_scope, idempotent_call, request_body_hash

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER, {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[ -~]+$"},
    OpenApiParameter.HEADER, required=False,
    description="Any unique string (e.g. a UUID). The same key with the same body within 24 h returns the "
                "first answer again without sending (header `Idempotent-Replayed: true`); the same key "
                "with another body, or while the first request is still running, gets 409.",
)


def _body_fields(request: Request) -> object:
    if isinstance(request.data, QueryDict):  # form or multipart: every value of every non-file field
        return {name: request.data.getlist(name) for name in request.data if name not in request.FILES}
    return request.data


def idempotent_response(request: Request, perform: Callable[[], dict], *, status: int = 200,
                        files: dict[str, bytes] | None = None, check: dict | None = None) -> Response:
    """Run the send once per Idempotency-Key (when the request has one) and answer with its result.
    `check`: what the send leaves in the chat (messages.message_send_check), for a takeover."""
    key = request.headers.get(HEADER)
    if key is None:
        return Response(perform(), status=status)
    answer, replayed = idempotent_call(
        key=key,
        scope=idempotency_scope(path=request.path, api_key=request.headers.get("X-API-Key", "")),
        body_hash=request_body_hash(fields=_body_fields(request), files=files),
        perform=perform,
        status_code=status,
        check=check,
    )
    response = Response(answer, status=status)
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response
