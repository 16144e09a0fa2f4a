"""`GET /metrics`: every process's counters added up, and the gauges read from the database.

avitogw.api_guard lets only holders of API_KEY (X-API-Key or `Authorization: Bearer`, as
Prometheus' `bearer_token` sends it) through, or only loopback callers when no key is set.
A DRF APIView only so that drf-spectacular documents it; it dispatches as a plain Django view,
since its answer is Prometheus' text format rather than JSON.
"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.exposition import choose_encoder
from rest_framework.views import APIView

from core.errors import error_body
from avitogw.metrics_collector import DatabaseCollector


class MetricsView(APIView):
    authentication_classes: list = []  # for the schema: DRF's dispatch, which would use them, is skipped
    permission_classes: list = []

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse(error_body("method_not_allowed", f'Method "{request.method}" not allowed.'),
                                    status=405)
            response["Allow"] = "GET, HEAD"
            return response
        return self.get(request)

    @extend_schema(operation_id="metrics", tags=["system"], summary="Prometheus metrics (text format)",
                   description="Counters and histograms of every gunicorn and Celery process added up, and "
                               "gauges read from the database. Names: docs/operations.md.",
                   responses={(200, "text/plain"): OpenApiResponse(description="Prometheus text format")})
    def get(self, request: HttpRequest) -> HttpResponse:
        registry = CollectorRegistry()  # per scrape, as prometheus_client's multiprocess mode asks
        multiprocess.MultiProcessCollector(registry, path=str(settings.METRICS_DIR))
        registry.register(DatabaseCollector())
        encode, content_type = choose_encoder(request.headers.get("Accept", ""))  # Prometheus text, or OpenMetrics
        return HttpResponse(encode(registry), content_type=content_type)
