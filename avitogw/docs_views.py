"""The API's documentation pages (`/docs`, `/redoc`, `/openapi.json`): read-only, JSON errors.

drf-spectacular's views render HTML through a template renderer, which has no page for
an error or for OPTIONS (a 500, TemplateDoesNotExist). These pages exist only to be read,
so any other method gets 405 in the JSON envelope before the view runs.

The API console keeps the key typed into "Authorize" in the page only (no persistAuthorization
in SPECTACULAR_SETTINGS). A browser that opened it when it still saved the key in localStorage
is told to clear the gateway's storage (`Clear-Site-Data`; cookies, so admin sessions, stay).
"""
from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema
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
    @extend_schema(exclude=True)  # a page, not an API operation (as on the view it overrides)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"storage"'  # an API key an earlier version saved there
        return response


class RedocView(ReadOnlyPage, SpectacularRedocView):
    pass
