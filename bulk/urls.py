"""Routes of the bulk send API (included at the root by avitogw/urls.py)."""
from django.urls import path

from bulk.api.views import BulkJobViewSet

urlpatterns = [
    path("api/messages/send/bulk", BulkJobViewSet.as_view({"post": "create"}), name="bulk-job-create"),
    path("api/messages/send/bulk/<uuid:job_id>", BulkJobViewSet.as_view({"get": "retrieve"}), name="bulk-job-detail"),
    path("api/messages/send/bulk/<uuid:job_id>/cancel", BulkJobViewSet.as_view({"post": "cancel"}),
         name="bulk-job-cancel"),
]
