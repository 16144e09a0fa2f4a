"""Routes of the incoming webhook (`webhook_urlpatterns`) and the deliveries API."""
from django.urls import path

from webhooks.api.views import DeliveryViewSet
from webhooks.views import AvitoWebhookSecretView, AvitoWebhookView

webhook_urlpatterns = [
    path("webhook/avito", AvitoWebhookView.as_view(), name="avito-webhook"),
    path("webhook/avito/<str:secret>", AvitoWebhookSecretView.as_view(), name="avito-webhook-secret"),
]

urlpatterns = [
    path("api/deliveries", DeliveryViewSet.as_view({"get": "list_deliveries"}), name="deliveries"),
    path("api/deliveries/<int:pk>", DeliveryViewSet.as_view({"get": "retrieve"}), name="delivery"),
    path("api/deliveries/<int:pk>/replay", DeliveryViewSet.as_view({"post": "replay"}), name="delivery-replay"),
]
