"""Top-level routes: admin, docs, the REST API, the incoming webhook; JSON errors everywhere."""
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from avitogw.docs_views import RedocView, SchemaView, SwaggerView
from avitogw.health import HealthView, InfoView
from avitogw.metrics_view import MetricsView
from webhooks.urls import webhook_urlpatterns

urlpatterns = [
    # First: every customer message comes in here, and Django tries the routes in order.
    *webhook_urlpatterns,
    # Bulk jobs were under messenger in the admin until they became the app `bulk`: old bookmarks still work.
    re_path(r"^admin/messenger/(?P<page>bulk(?:job|item)/.*)$",
            RedirectView.as_view(url="/admin/bulk/%(page)s", permanent=True, query_string=True)),
    path("admin/", admin.site.urls),
    path("health", HealthView.as_view(), name="health"),
    path("info", InfoView.as_view(), name="info"),
    path("metrics", MetricsView.as_view(), name="metrics"),  # behind avitogw.api_guard
    path("openapi.json", SchemaView.as_view(), name="schema"),  # JSON whatever the Accept header
    path("docs", SwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc", RedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("messenger.api.urls")),
    path("", include("accounts.urls")),
    path("", include("bulk.urls")),
    path("", include("webhooks.urls")),
    path("", include("reconcile.urls")),
]

handler400 = "avitogw.exception_handler.json_error_400"
handler403 = "avitogw.exception_handler.json_error_403"
handler404 = "core.errors.json_error_404"
handler500 = "avitogw.exception_handler.json_error_500"
