"""WSGI entry point: `gunicorn avitogw.wsgi:application`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avitogw.settings")
application = get_wsgi_application()

from avitogw.startup import refuse_unreadable_secrets, warn_about_configuration  # noqa: E402 (needs the settings)

refuse_unreadable_secrets()
warn_about_configuration()
