"""avitogw: a gateway between Avito Messenger and n8n (Django project package)."""
from avitogw.celery import app as celery_app

__all__ = ("celery_app",)
