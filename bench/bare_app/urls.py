"""Bare views at the paths the benchmarks call on the gateway, so one load script drives both."""
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # as the gateway's webhook (a DRF view without session authentication) is
def ok(request, secret: str | None = None):
    request.body  # read the notification, as any real view must  # noqa: B018
    return JsonResponse({"ok": True})


urlpatterns = [
    path("health", ok),
    path("webhook/avito", ok),
    path("webhook/avito/<str:secret>", ok),
]
