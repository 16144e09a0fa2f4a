"""App config of the project package itself: its management commands, and the metrics folder at start-up."""
from django.apps import AppConfig
from django.conf import settings


class GatewayConfig(AppConfig):
    name = "avitogw"
    verbose_name = "avitogw"

    def ready(self) -> None:
        # Every process (web, worker, beat, manage.py) counts into this folder (avitogw.metrics);
        # made here, at start-up, rather than when a module is imported.
        settings.METRICS_DIR.mkdir(parents=True, exist_ok=True)
