"""WSGI entry of the bare view: `gunicorn -c gunicorn.conf.py bench.bare_app.wsgi:application`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bare_app.settings"
application = get_wsgi_application()
