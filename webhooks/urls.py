"""Routes of the incoming webhook and the deliveries API."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from webhooks.api.views import DeliveryViewSet
from webhooks.views import AvitoWebhookSecretView, AvitoWebhookView

router = SimpleRouter(trailing_slash=False)
router.register("api/deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("webhook/avito", AvitoWebhookView.as_view(), name="avito-webhook"),
    path("webhook/avito/<str:secret>", AvitoWebhookSecretView.as_view(), name="avito-webhook-secret"),
    *router.urls,
]
