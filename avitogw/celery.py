"""The Celery app `avitogw`: `celery -A avitogw worker` and `celery -A avitogw beat`.

Configuration comes from Django settings (CELERY_*); tasks are found in each app's
`tasks` module. Celery messages are only wake-up calls: the rows are the source of truth.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avitogw.settings")

app = Celery("avitogw")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
