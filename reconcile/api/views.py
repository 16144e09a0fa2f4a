"""ReconcileRunViewSet: the latest runs, newest first (a thin list calling one selector)."""
from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.validation import validated
from core.api.responses import errors
from reconcile.api.serializers import ReconcileRunSerializer, RunListQuery, RunListResponse
from reconcile.selectors import reconcile_lag, run_list

EXAMPLE = OpenApiExample("a run that found a lost message", response_only=True, value={
    "runs": [{"id": 42, "trigger": "beat", "outcome": "ok", "started_at": "2025-12-01T17:31:00Z",
              "finished_at": "2025-12-01T17:31:01Z", "since": "2025-12-01T17:29:30Z",
              "watermark": "2025-12-01T17:31:00Z", "chats_seen": 1, "messages_found": 1, "calls": 2,
              "error": ""}],
    "interval": 60, "lag_seconds": 41.2})


class ReconcileRunViewSet(viewsets.ViewSet):
    @extend_schema(operation_id="reconcile_runs_list", tags=["reconcile"], parameters=[RunListQuery],
                   responses={200: RunListResponse, **errors(400, 401)}, examples=[EXAMPLE],
                   summary="The latest reconciliation runs: what each read, found and cost")
    def list_runs(self, request: Request) -> Response:
        runs = run_list(**validated(RunListQuery, request.query_params))
        lag = reconcile_lag(now=timezone.now())
        return Response({"runs": ReconcileRunSerializer(runs, many=True).data, "interval": settings.RECONCILE_INTERVAL,
                         "lag_seconds": round(lag, 1) if lag is not None else None})
