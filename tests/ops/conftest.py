"""The webhook tests' fixtures (n8n settings, eager Celery, no real broker), for the metrics tests."""
from tests.webhooks.conftest import eager, n8n_settings, no_real_broker  # noqa: F401
