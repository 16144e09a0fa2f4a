"""Routes of the reconciliation API."""
from django.urls import path

from reconcile.api.views import ReconcileRunViewSet

urlpatterns = [
    path("api/reconcile/runs", ReconcileRunViewSet.as_view({"get": "list_runs"}), name="reconcile-runs"),
]
