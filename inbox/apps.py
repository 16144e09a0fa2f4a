"""App config of the staff inbox: the admin's chat and message pages, above messenger and webhooks."""
from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Staff inbox"
