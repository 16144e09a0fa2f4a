"""Routes of the accounts API (contract §8)."""
from django.urls import path

from accounts.views import AccountViewSet

accounts = AccountViewSet.as_view
SLUG = "<slug:slug>"

urlpatterns = [
    path("api/accounts", accounts({"get": "list_accounts", "post": "create"}), name="account-list"),
    path(f"api/accounts/{SLUG}", accounts({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
         name="account-detail"),
    path(f"api/accounts/{SLUG}/check", accounts({"post": "check"}), name="account-check"),
    path(f"api/accounts/{SLUG}/pause", accounts({"post": "pause"}), name="account-pause"),
    path(f"api/accounts/{SLUG}/resume", accounts({"post": "resume"}), name="account-resume"),
]
