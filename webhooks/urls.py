"""Routes of the incoming webhook and the deliveries API."""
urlpatterns = []
