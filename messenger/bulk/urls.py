"""Routes of the bulk send API."""
urlpatterns = []
