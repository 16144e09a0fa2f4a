"""The API's documentation pages (`/docs`, `/redoc`, `/openapi.json`): read-only, JSON errors.

drf-spectacular's views render HTML through a template renderer, which has no page for
an error or for OPTIONS (a 500, TemplateDoesNotExist). These pages exist only to be read,
so any other method gets 405 in the JSON envelope before the view runs.
"""
from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.errors import error_body

READ_METHODS = ("GET", "HEAD")


class ReadOnlyPage:
    def dispatch(self, request: HttpRequest, *args, **kwargs):
        if request.method not in READ_METHODS:
            response = JsonResponse(error_body("method_not_allowed", f'Method "{request.method}" not allowed.'),
                                    status=405)
            response["Allow"] = ", ".join(READ_METHODS)
            return response
        return super().dispatch(request, *args, **kwargs)


class SchemaView(ReadOnlyPage, SpectacularJSONAPIView):
    pass


class SwaggerView(ReadOnlyPage, SpectacularSwaggerView):
    pass


class RedocView(ReadOnlyPage, SpectacularRedocView):
    pass
