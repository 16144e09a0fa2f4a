"""Routes of the messenger REST API."""
urlpatterns = []
