"""The webhook tests' fixtures (n8n settings, no real broker), for the metrics tests; eager Celery is tests/conftest.py's."""
from tests.webhooks.conftest import n8n_settings, no_real_broker  # noqa: F401
