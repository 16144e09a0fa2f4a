"""App config of the project package itself: its management commands, and DATA_DIR's folders at start-up."""
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


def sqlite_folder() -> list[Path]:
    """The folder of the SQLite database file, if the database is one (SQLite makes the file, not its folder)."""
    database = settings.DATABASES["default"]
    name = str(database.get("NAME") or "")
    if database["ENGINE"] != "django.db.backends.sqlite3" or name in ("", ":memory:") or name.startswith("file:"):
        return []
    return [Path(name).parent]


class GatewayConfig(AppConfig):
    name = "avitogw"
    verbose_name = "avitogw"

    def ready(self) -> None:
        # Made here, at start-up of every process (web, worker, beat, manage.py), never when the settings
        # are imported. Each comes before its first use: the metrics folder before a count (core.metrics),
        # the database's folder before the first connection, STATIC_ROOT before whitenoise's middleware is
        # built (it warns about a missing one on every start while collectstatic has not run).
        for folder in (settings.METRICS_DIR, settings.STATIC_ROOT, *sqlite_folder()):
            Path(folder).mkdir(parents=True, exist_ok=True)
